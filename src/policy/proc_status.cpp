#include "policy/proc_status.hpp"

#include <charconv>

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

namespace {

// "Key:\tvalue..." lines; the value of `key`, or nullopt.
std::optional<std::string_view> field(std::string_view status, std::string_view key) {
    while (!status.empty()) {
        std::string_view line = next_line(status);
        if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
            line.remove_prefix(key.size() + 1);
            while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
            return line;
        }
    }
    return std::nullopt;
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
bool four(std::string_view status, std::string_view key, std::array<T, 4>& out) {
    auto text = field(status, key);
    if (!text) return false;
    auto values = numbers<T>(*text, 10);
    if (!values || values->size() != 4) return false;
    for (std::size_t i = 0; i < 4; ++i) out[i] = (*values)[i];
    return true;
}

bool mask(std::string_view status, std::string_view key, std::uint64_t& out) {
    auto text = field(status, key);
    if (!text || text->size() != 16) return false;
    auto values = numbers<std::uint64_t>(*text, 16);
    if (!values || values->size() != 1) return false;
    out = values->front();
    return true;
}

}  // namespace

std::optional<Credentials> parse_status_credentials(std::string_view status) {
    Credentials c;
    if (!four(status, "Uid", c.uids) || !four(status, "Gid", c.gids)) return std::nullopt;
    auto groups = field(status, "Groups");
    if (!groups) return std::nullopt;
    auto list = numbers<gid_t>(*groups, 10);
    if (!list) return std::nullopt;
    c.groups = std::move(*list);
    if (!mask(status, "CapInh", c.cap_inheritable) || !mask(status, "CapPrm", c.cap_permitted) ||
        !mask(status, "CapEff", c.cap_effective) || !mask(status, "CapBnd", c.cap_bounding) ||
        !mask(status, "CapAmb", c.cap_ambient)) {
        return std::nullopt;
    }
    auto nnp = field(status, "NoNewPrivs");
    if (!nnp || (*nnp != "0" && *nnp != "1")) return std::nullopt;
    c.no_new_privs = *nnp == "1";
    auto seccomp = field(status, "Seccomp");
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
