#include "policy/proc_status.hpp"

#include <charconv>

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

namespace {

// The status fields the credentials come from, in one pass over its
// "Key:\tvalue" lines; each the value of the first line with that key.
enum Key : std::size_t {
    kUid,
    kGid,
    kGroups,
    kCapInh,
    kCapPrm,
    kCapEff,
    kCapBnd,
    kCapAmb,
    kNoNewPrivs,
    kSeccomp,
    kKeys
};
constexpr std::array<std::string_view, kKeys> kKeyNames{"Uid",    "Gid",    "Groups", "CapInh",     "CapPrm",
                                                        "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"};
using Fields = std::array<std::optional<std::string_view>, kKeys>;

Fields fields(std::string_view status) {
    Fields found{};
    while (!status.empty()) {
        std::string_view line = next_line(status);
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        const std::string_view key = line.substr(0, colon);
        for (std::size_t i = 0; i < kKeys; ++i) {
            if (found[i] || kKeyNames[i] != key) continue;
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == '\t' || value.front() == ' ')) value.remove_prefix(1);
            found[i] = value;
            break;
        }
    }
    return found;
}

template <typename T>
std::optional<std::vector<T>> numbers(std::string_view text, int base) {
    std::vector<T> out;
    while (!text.empty()) {
        while (!text.empty() && (text.front() == '\t' || text.front() == ' ')) text.remove_prefix(1);
        if (text.empty()) break;
        T value{};
        auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value, base);
        if (err != std::errc{} || end == text.data()) return std::nullopt;
        if (end != text.data() + text.size() && *end != '\t' && *end != ' ') return std::nullopt;
        out.push_back(value);
        text.remove_prefix(static_cast<std::size_t>(end - text.data()));
    }
    return out;
}

template <typename T>
bool four(const std::optional<std::string_view>& text, std::array<T, 4>& out) {
    if (!text) return false;
    auto values = numbers<T>(*text, 10);
    if (!values || values->size() != 4) return false;
    for (std::size_t i = 0; i < 4; ++i) out[i] = (*values)[i];
    return true;
}

bool mask(const std::optional<std::string_view>& text, std::uint64_t& out) {
    if (!text || text->size() != 16) return false;
    auto values = numbers<std::uint64_t>(*text, 16);
    if (!values || values->size() != 1) return false;
    out = values->front();
    return true;
}

}  // namespace

std::optional<Credentials> parse_status_credentials(std::string_view status) {
    const Fields f = fields(status);
    Credentials c;
    if (!four(f[kUid], c.uids) || !four(f[kGid], c.gids)) return std::nullopt;
    if (!f[kGroups]) return std::nullopt;
    auto list = numbers<gid_t>(*f[kGroups], 10);
    if (!list) return std::nullopt;
    c.groups = std::move(*list);
    if (!mask(f[kCapInh], c.cap_inheritable) || !mask(f[kCapPrm], c.cap_permitted) ||
        !mask(f[kCapEff], c.cap_effective) || !mask(f[kCapBnd], c.cap_bounding) || !mask(f[kCapAmb], c.cap_ambient)) {
        return std::nullopt;
    }
    const auto& nnp = f[kNoNewPrivs];
    if (!nnp || (*nnp != "0" && *nnp != "1")) return std::nullopt;
    c.no_new_privs = *nnp == "1";
    const auto& seccomp = f[kSeccomp];
    if (!seccomp || seccomp->size() != 1 || (*seccomp)[0] < '0' || (*seccomp)[0] > '2') return std::nullopt;
    c.seccomp = (*seccomp)[0] - '0';
    return c;
}

std::optional<std::string> excess_privilege(const Credentials& c, uid_t uid, gid_t gid, std::uint64_t allowed,
                                            std::uint64_t bounding, bool own_group) {
    for (uid_t u : c.uids) {
        if (u != uid) return fmt::format("uids {} {} {} {}, not {}", c.uids[0], c.uids[1], c.uids[2], c.uids[3], uid);
    }
    for (gid_t g : c.gids) {
        if (g != gid) return fmt::format("gids {} {} {} {}, not {}", c.gids[0], c.gids[1], c.gids[2], c.gids[3], gid);
    }
    const bool only_own = own_group && c.groups.size() == 1 && c.groups[0] == gid;
    if (!c.groups.empty() && !only_own) return fmt::format("{} supplementary groups", c.groups.size());
    if ((c.cap_permitted & ~allowed) != 0 || (c.cap_effective & ~allowed) != 0) {
        return fmt::format("capabilities {:016x} (permitted) {:016x} (effective)", c.cap_permitted, c.cap_effective);
    }
    if (c.cap_inheritable != 0 || c.cap_ambient != 0 || (c.cap_bounding & ~bounding) != 0) {
        return fmt::format("capability sets inheritable {:016x}, ambient {:016x}, bounding {:016x}", c.cap_inheritable,
                           c.cap_ambient, c.cap_bounding);
    }
    if (!c.no_new_privs) return std::string("no_new_privs unset");
    return std::nullopt;
}

std::optional<std::string> unconfined(const Credentials& c) {
    if (c.seccomp != 2) return fmt::format("seccomp mode {}, not a filter", c.seccomp);
    return std::nullopt;
}

}  // namespace banger
