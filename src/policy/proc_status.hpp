// /proc/<pid>/status (or .../task/<tid>/status): the credentials of a
// process or thread, as the kernel reports them.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

struct Credentials {
    std::array<uid_t, 4> uids{};  // real, effective, saved, filesystem
    std::array<gid_t, 4> gids{};
    std::vector<gid_t> groups;  // supplementary
    std::uint64_t cap_inheritable = 0;
    std::uint64_t cap_permitted = 0;
    std::uint64_t cap_effective = 0;
    std::uint64_t cap_bounding = 0;
    std::uint64_t cap_ambient = 0;
    bool no_new_privs = false;
    int seccomp = 0;  // Seccomp: 0 none, 1 strict, 2 a filter
};

// nullopt if a field is missing or malformed: credentials are never guessed.
[[nodiscard]] std::optional<Credentials> parse_status_credentials(std::string_view status);

// Why a thread with these credentials is more privileged than the helper may
// be while it works (ids all `uid`/`gid`, no supplementary group but, with
// `own_group`, `gid` itself (systemd's User= gives a service its user's
// groups, the primary one among them), no
// capability outside `allowed`, empty inheritable and ambient sets, nothing
// in the bounding set outside `bounding` (empty for the pkexec door, which
// empties it as root; the socket door's instance cannot, and with
// no_new_privs it only bounds what an exec could gain, which none can),
// no_new_privs), or nullopt if it is not.
[[nodiscard]] std::optional<std::string> excess_privilege(const Credentials& creds, uid_t uid, gid_t gid,
                                                          std::uint64_t allowed, std::uint64_t bounding = 0,
                                                          bool own_group = false);

// Why a thread with these credentials is not under a seccomp filter, or
// nullopt if it is.
[[nodiscard]] std::optional<std::string> unconfined(const Credentials& creds);

}  // namespace banger
