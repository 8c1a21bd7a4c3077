#include "policy/passwd.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

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
        return PasswdEntry{*uid, *gid, std::string(fields[1]), std::string(fields[5]), std::string(fields[6])};
    }
    return std::nullopt;
}

std::optional<std::string> find_shadow_password(std::string_view shadow, std::string_view name) {
    if (name.empty() || name.find(':') != std::string_view::npos) return std::nullopt;
    while (!shadow.empty()) {
        std::string_view line = next_line(shadow);
        if (line.size() <= name.size() || line.substr(0, name.size()) != name || line[name.size()] != ':') continue;
        std::string_view rest = line.substr(name.size() + 1);
        const std::size_t colon = rest.find(':');
        if (colon == std::string_view::npos) return std::nullopt;
        return std::string(rest.substr(0, colon));
    }
    return std::nullopt;
}

std::optional<std::string> login_problem(const PasswdEntry& entry, std::optional<std::string_view> shadow_password,
                                         bool home_exists) {
    constexpr std::array<std::string_view, 4> kNoShell{"/usr/sbin/nologin", "/sbin/nologin", "/usr/bin/false",
                                                       "/bin/false"};
    if (std::find(kNoShell.begin(), kNoShell.end(), entry.shell) == kNoShell.end()) {
        return fmt::format("its shell {} lets it log in (use /usr/sbin/nologin)", excerpt(entry.shell, 100));
    }
    const auto usable = [](std::string_view password) {
        return password.empty() || (password.front() != '!' && password.front() != '*');
    };
    if (entry.password != "x" && usable(entry.password)) return std::string("it has a password in /etc/passwd");
    if (shadow_password && usable(*shadow_password)) {
        return std::string(shadow_password->empty() ? "it has an empty password in /etc/shadow"
                                                    : "it has a password in /etc/shadow");
    }
    if (entry.home != "/" && home_exists) {
        return fmt::format("its home {} exists (use / for a system user)", excerpt(entry.home, 100));
    }
    return std::nullopt;
}

}  // namespace banger
