// /proc/<pid>/net/unix: which unix sockets are listening on which path.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace banger {

struct UnixSocketLine {
    std::uint64_t inode = 0;
    bool listening = false;
    std::string_view path;  // empty for unnamed sockets; "@..." for abstract ones
};

// One line of /proc/net/unix:
// "Num: RefCount Protocol Flags Type St Inode Path". nullopt for the header
// and for malformed lines. The path is the rest of the line (it may contain
// spaces).
[[nodiscard]] std::optional<UnixSocketLine> parse_unix_socket_line(std::string_view line) noexcept;

// "socket:[12345]" (a readlink of /proc/<pid>/fd/N) -> 12345.
[[nodiscard]] std::optional<std::uint64_t> parse_socket_link(std::string_view link) noexcept;

}  // namespace banger
