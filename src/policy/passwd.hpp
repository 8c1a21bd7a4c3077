// /etc/passwd, read as text: the ids of the helper user. Read directly, not
// through NSS: the privileged process loads no NSS module and asks no
// daemon (nscd, systemd-userdbd), and a system user made by systemd-sysusers
// or useradd --system is always in that file.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace banger {

struct PasswdEntry {
    uid_t uid;
    gid_t gid;
    std::string password;  // "x": in /etc/shadow
    std::string home;
    std::string shell;
};

// The ids of the first line whose name is `name` (what getpwnam() finds in
// the files database, parsed more strictly); nullopt if there is none, or
// if that line is malformed (fewer than seven fields, an id that is not a plain decimal
// number, or (uid_t)-1): a user is never guessed. NIS compat lines ("+name",
// "-name") name no one.
[[nodiscard]] std::optional<PasswdEntry> find_passwd_entry(std::string_view passwd, std::string_view name);

// The password field of `name`'s line in /etc/shadow, or nullopt when the
// file has no line for it (or a line without that field).
[[nodiscard]] std::optional<std::string> find_shadow_password(std::string_view shadow, std::string_view name);

// Why someone could log in as this account, so that its uid could be
// someone's besides the helper's (polkit takes questions about anyone's
// process from that uid, as the actions' owner), or nullopt: a shell other
// than nologin or false, a password (in /etc/passwd or `shadow_password`:
// anything but a locked one, "!..." or "*...", and an empty one most of
// all), or a home other than "/" that exists.
[[nodiscard]] std::optional<std::string> login_problem(const PasswdEntry& entry,
                                                       std::optional<std::string_view> shadow_password,
                                                       bool home_exists);

}  // namespace banger
