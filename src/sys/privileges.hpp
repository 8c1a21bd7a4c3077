// Least privilege, in two steps. Root is needed to open what the call
// starts from (/proc, the install record) and to switch users; after that
// the helper works as its own unprivileged user with three capabilities,
// in every thread, GLib's included.
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

// Its ids, from /etc/passwd itself (policy/passwd, no NSS). ConfigError,
// saying how to create it, if the user is not there, or is root.
// And the account is no one's to log into (policy/passwd login_problem): a
// ConfigError says why not. /etc/shadow must be readable, unless
// `unchecked_password` is given (--doctor as an ordinary user): then it says
// whether the password went unchecked.
[[nodiscard]] Result<HelperUser> find_helper_user(bool* unchecked_password = nullptr);

// Step one, while still single-threaded: keep only CAP_KILL (signal other
// users' processes), CAP_SYS_PTRACE (read their /proc/<pid>/exe and fd/),
// CAP_DAC_READ_SEARCH (read below /proc/<pid> and the runtime dir whatever
// their modes), and, until step two, CAP_SETUID and CAP_SETGID; empty the
// bounding set; set no_new_privs. Every thread started from here on (GLib's)
// inherits exactly that. Never called on the self-elevation path, which must
// still exec setuid pkexec.
[[nodiscard]] Status restrict_capabilities();

// Step two, once what needs root is open and while still single-threaded
// (glibc would apply the id changes to every thread, but the capabilities
// of other threads are theirs): all uids and gids become `user`'s, with no
// supplementary groups, and only CAP_KILL, CAP_SYS_PTRACE and
// CAP_DAC_READ_SEARCH stay. Not dumpable, so that no other process of that
// uid can ptrace the helper or read its /proc files. Then checks every
// thread, as verify_working_threads() does.
[[nodiscard]] Status become_helper_user(const HelperUser& user);

// Every thread's /proc/self/task/<tid>/status shows `user`'s ids, no
// supplementary group and nothing beyond the three capabilities, with empty
// bounding and ambient sets and no_new_privs; any excess is a SystemError,
// never a call that goes on. Threads started after step two (GLib's) inherit
// exactly the main thread's state; this proves it. With `confined`, every
// thread must also be under the seccomp filter (confine_working_process).
// What the working helper holds, by phase. Reading: CAP_KILL,
// CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH, while it pins its targets and reads
// their facts. Signalling: CAP_KILL alone, from the moment it is done reading
// (give_up_reading), before the first byte goes to any bus: GLib's threads,
// the code that parses what the bus sends, are born with it alone.
enum class Phase { Reading, Signalling };

// `instance`: the socket door's instance, whose bounding set may keep the
// working capabilities and whose groups its own (see excess_privilege).
[[nodiscard]] Status verify_working_threads(const HelperUser& user, bool confined, bool instance = false,
                                            Phase phase = Phase::Reading);

// Every fact is read: CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH go, effective
// and permitted, and only CAP_KILL stays. Still single-threaded (the bus is
// not connected yet), so no thread keeps more; verify_working_threads with
// Phase::Signalling proves it once the bus's threads run.
[[nodiscard]] Status give_up_reading();

// Whether the socket door's instance was handed the working capabilities
// (systemd's AmbientCapabilities=): a ConfigError naming the setting if not.
// Asked first, before anything is read: without CAP_DAC_READ_SEARCH the
// instance could not even read /etc/shadow for find_helper_user().
[[nodiscard]] Status instance_holds_working_caps();

// The socket door's instance, as banger-signal@.service started it: already
// `user` (checked here, ids and groups: never root), holding the working
// capabilities (instance_holds_working_caps). Keeps exactly those, effective
// and permitted, clears the inheritable and ambient sets, sets
// no_new_privs, and checks every thread as verify_working_threads() does.
// ConfigError naming the unit's setting when the instance is not what the
// unit should have made it.
[[nodiscard]] Status settle_instance(const HelperUser& user);

}  // namespace banger
