// /proc/<pid>/net/unix lines and /proc/<pid>/fd socket links.
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_check.hpp"
#include "policy/unix_socket.hpp"

using namespace banger;

namespace {

// The line the kernel would print for `entry` (net/af_unix.c, unix_seq_show).
std::string kernel_line(const UnixSocketLine& entry) {
    char head[96];
    std::snprintf(head, sizeof head, "0000000000000000: 00000002 00000000 %08X 0001 %02X %5" PRIu64,
                  entry.listening ? 0x00010000U : 0U, entry.listening ? 1U : 3U, entry.inode);
    std::string line = head;
    line += ' ';
    line += entry.path;
    return line + "\n";
}

bool same(const std::optional<UnixSocketLine>& a, const std::optional<UnixSocketLine>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->inode == b->inode && a->listening == b->listening && a->path == b->path);
}

void check_line(std::string_view line) {
    auto entry = parse_unix_socket_line(line);
    // With or without its newline, a line means the same.
    if (!fuzz::ends_with(line, "\n")) FUZZ_REQUIRE(same(entry, parse_unix_socket_line(std::string(line) + "\n")));
    if (!entry) return;
    // The path is the rest of this very line, not a copy and not more.
    FUZZ_REQUIRE(entry->path.data() >= line.data() &&
                 entry->path.data() + entry->path.size() <= line.data() + line.size());
    FUZZ_REQUIRE(fuzz::ends_with(line, entry->path) || fuzz::ends_with(line, std::string(entry->path) + "\n"));

    const std::string printed = kernel_line(*entry);
    FUZZ_REQUIRE(same(entry, parse_unix_socket_line(printed)));

    const std::string link = "socket:[" + std::to_string(entry->inode) + "]";
    FUZZ_REQUIRE(parse_socket_link(link) == entry->inode);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    // As the flow reads the file: line by line. And the whole input as one line.
    fuzz::for_each_line(text, check_line);
    check_line(text);

    // "socket:[N]" with N decimal; nothing else.
    for (std::string_view link : {text, text.substr(0, text.find('\n'))}) {
        if (auto inode = parse_socket_link(link)) {
            FUZZ_REQUIRE(fuzz::starts_with(link, "socket:[") && fuzz::ends_with(link, "]"));
            const std::string_view digits = link.substr(8, link.size() - 9);
            FUZZ_REQUIRE(!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos);
            FUZZ_REQUIRE(parse_socket_link("socket:[" + std::to_string(*inode) + "]") == inode);
        }
    }
    return 0;
}
