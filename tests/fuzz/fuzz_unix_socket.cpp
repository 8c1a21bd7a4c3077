// sock_diag answers (the proof of rule 2) and /proc/<pid>/fd socket links.
#include <sys/sysmacros.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "fuzz_check.hpp"
#include "policy/unix_socket.hpp"

using namespace banger;

namespace {

std::uint32_t u32_at(const std::uint8_t* data, std::size_t size, std::size_t offset) {
    std::uint32_t v = 0;
    if (offset + sizeof v <= size) std::memcpy(&v, data + offset, sizeof v);
    return v;
}

void check_dump(std::span<const unsigned char> bytes, std::uint32_t seq) {
    auto r = parse_unix_diag_dump(bytes, seq);
    if (!r) {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::SystemError);
        FUZZ_REQUIRE(!r.failure().reason.empty());
        return;
    }
    FUZZ_REQUIRE(!bytes.empty());
    for (const UnixSocketInfo& s : r.value().sockets) {
        if (!s.file_inode) {
            FUZZ_REQUIRE(!listens_on_file(s, 0, 0));
            continue;
        }
        // Bound to a file: it matches exactly that file, and only when listening.
        const std::uint64_t dev = makedev(s.file_dev >> 20U, s.file_dev & 0xfffffU);
        FUZZ_REQUIRE(listens_on_file(s, dev, *s.file_inode) == s.listening);
        FUZZ_REQUIRE(!listens_on_file(s, dev, std::uint64_t{*s.file_inode} + 1));
        FUZZ_REQUIRE(!listens_on_file(s, dev, std::uint64_t{*s.file_inode} + (std::uint64_t{1} << 32)));
        FUZZ_REQUIRE(!listens_on_file(s, dev + 1, *s.file_inode));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The sequence number the datagram claims to answer (header bytes 8..11),
    // so that the fuzzer reaches past the check that it answers this request.
    const std::span<const unsigned char> bytes(data, size);
    const std::uint32_t seq = u32_at(data, size, 8);
    check_dump(bytes, seq);
    check_dump(bytes, seq + 1);

    // Our own request never parses as an answer.
    const auto request = unix_diag_dump_request(seq);
    FUZZ_REQUIRE(!parse_unix_diag_dump(std::span(request.data(), request.size()), seq).ok());

    // "socket:[N]" with N decimal; nothing else.
    const std::string_view text = fuzz::as_text(data, size);
    for (std::string_view link : {text, text.substr(0, text.find('\n'))}) {
        if (auto parsed = parse_socket_link(link)) {
            FUZZ_REQUIRE(fuzz::starts_with(link, "socket:[") && fuzz::ends_with(link, "]"));
            const std::string_view digits = link.substr(8, link.size() - 9);
            FUZZ_REQUIRE(!digits.empty() && digits.find_first_not_of("0123456789") == std::string_view::npos);
            FUZZ_REQUIRE(parse_socket_link("socket:[" + std::to_string(*parsed) + "]") == parsed);
        }
    }
    return 0;
}
