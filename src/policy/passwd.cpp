#include "policy/passwd.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include "policy/text.hpp"

namespace banger {

namespace {

constexpr std::size_t kFields = 7;  // name:password:uid:gid:gecos:home:shell

// A decimal id, all of `text`, below (id)-1, which means "no id" to the kernel.
std::optional<std::uint32_t> id(std::string_view text) {
    std::uint32_t value = 0;
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
    if (err != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    if (value == std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<PasswdEntry> find_passwd_entry(std::string_view passwd, std::string_view name) {
    if (name.empty() || name.find(':') != std::string_view::npos) return std::nullopt;
    while (!passwd.empty()) {
        std::string_view line = next_line(passwd);
        if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':') continue;
        std::array<std::string_view, kFields> fields{};
        std::size_t n = 0;
        for (std::string_view rest = line;; ++n) {
            const std::size_t colon = rest.find(':');
            if (n == kFields) return std::nullopt;  // more than seven
            fields[n] = rest.substr(0, colon);
            if (colon == std::string_view::npos) break;
            rest.remove_prefix(colon + 1);
        }
        if (n + 1 != kFields) return std::nullopt;
        const auto uid = id(fields[2]);
        const auto gid = id(fields[3]);
        if (!uid || !gid) return std::nullopt;
        return PasswdEntry{*uid, *gid};
    }
    return std::nullopt;
}

}  // namespace banger
