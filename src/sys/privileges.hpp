// Least privilege, in two steps. Root is needed to open what the call
// starts from (/proc, the install record, the polkit connection: polkitd
// judges a check by the credentials the connection had when it was made);
// after that the helper works as its own unprivileged user with three
// capabilities, in every thread.
#pragma once

#include <sys/types.h>

#include "policy/result.hpp"

namespace banger {

// The dedicated system user the helper works as (meson -Dhelper_user,
// created by the package's sysusers.d entry).
struct HelperUser {
    uid_t uid;
    gid_t gid;
};

// ConfigError, saying how to create it, if the user does not exist or is root.
[[nodiscard]] Result<HelperUser> find_helper_user();

// Step one, while still single-threaded: keep only CAP_KILL (signal other
// users' processes), CAP_SYS_PTRACE (read their /proc/<pid>/exe and fd/),
// CAP_DAC_READ_SEARCH (read below /proc/<pid> and the runtime dir whatever
// their modes), and, until step two, CAP_SETUID and CAP_SETGID; empty the
// bounding set; set no_new_privs. Every thread started from here on (GLib's)
// inherits exactly that. Never called on the self-elevation path, which must
// still exec setuid pkexec.
[[nodiscard]] Status restrict_capabilities();

// Step two, once what needs root is open: every thread switches all of its
// uids and gids to `user`, with no supplementary groups (glibc applies these
// to every thread); the kernel then clears the other threads' capabilities,
// and this one keeps just CAP_KILL, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.
// Not dumpable, so that no process of that uid can ptrace the helper or read
// its /proc files. Then checks every thread's /proc status: any excess is a
// SystemError, never a call that goes on.
[[nodiscard]] Status become_helper_user(const HelperUser& user);

}  // namespace banger
