#include "policy/unix_socket.hpp"

#include <charconv>

namespace banger {

namespace {

constexpr std::uint32_t kAcceptCon = 0x00010000;  // __SO_ACCEPTCON: the socket is listening
constexpr std::uint32_t kUnconnected = 1;         // SS_UNCONNECTED

// Next space-separated token; advances `s` past it and its separator.
std::string_view take_token(std::string_view& s) noexcept {
    std::size_t sp = s.find(' ');
    std::string_view token = s.substr(0, sp);
    s.remove_prefix(sp == std::string_view::npos ? s.size() : sp + 1);
    return token;
}

template <typename T>
bool parse_number(std::string_view s, T& out, int base) noexcept {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

std::optional<UnixSocketLine> parse_unix_socket_line(std::string_view line) noexcept {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::string_view num = take_token(line);
    if (num.size() < 2 || num.back() != ':') return std::nullopt;  // also the header
    std::uint64_t ignored = 0;
    std::uint32_t flags = 0;
    std::uint32_t state = 0;
    UnixSocketLine out;
    if (!parse_number(take_token(line), ignored, 16)) return std::nullopt;  // RefCount
    if (!parse_number(take_token(line), ignored, 16)) return std::nullopt;  // Protocol
    if (!parse_number(take_token(line), flags, 16)) return std::nullopt;    // Flags
    if (!parse_number(take_token(line), ignored, 16)) return std::nullopt;  // Type
    if (!parse_number(take_token(line), state, 16)) return std::nullopt;    // St
    // The inode is right-aligned ("%5lu"): skip its padding.
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    std::string_view inode = line.substr(0, line.find(' '));
    if (!parse_number(inode, out.inode, 10)) return std::nullopt;           // Inode
    line.remove_prefix(inode.size());
    if (!line.empty()) line.remove_prefix(1);
    out.listening = (flags & kAcceptCon) != 0 && state == kUnconnected;
    out.path = line;
    return out;
}

std::optional<std::uint64_t> parse_socket_link(std::string_view link) noexcept {
    constexpr std::string_view kPrefix = "socket:[";
    if (link.size() <= kPrefix.size() + 1 || !link.starts_with(kPrefix) || !link.ends_with(']')) {
        return std::nullopt;
    }
    std::uint64_t inode = 0;
    if (!parse_number(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1), inode, 10)) return std::nullopt;
    return inode;
}

}  // namespace banger
