// /etc/passwd, read as text: the ids of the helper user. Read directly, not
// through NSS: the privileged process loads no NSS module and asks no
// daemon (nscd, systemd-userdbd), and a system user made by systemd-sysusers
// or useradd --system is always in that file.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace banger {

struct PasswdEntry {
    uid_t uid;
    gid_t gid;
};

// The ids of the first line whose name is `name` (what getpwnam() finds in
// the files database, parsed more strictly); nullopt if there is none, or
// if that line is malformed (fewer than seven fields, an id that is not a plain decimal
// number, or (uid_t)-1): a user is never guessed. NIS compat lines ("+name",
// "-name") name no one.
[[nodiscard]] std::optional<PasswdEntry> find_passwd_entry(std::string_view passwd, std::string_view name);

}  // namespace banger
