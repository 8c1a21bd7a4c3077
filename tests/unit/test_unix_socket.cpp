#include <doctest/doctest.h>

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "policy/unix_socket.hpp"

using namespace banger;

namespace {

// A dump recorded from Linux 6.18 in a fresh network namespace
// (tests/fixtures/unix-diag-dump-*.bin, sequence number 42): two sockets
// listening on files a.sock and b.sock (on device 254:0), one on an abstract
// name, and one bound but idle (not listed: the request asks for listening
// sockets only). Datagram 2 ends the dump.
constexpr std::uint32_t kSeq = 42;
constexpr std::uint32_t kSocketA = 2405793;
constexpr std::uint32_t kSocketB = 2405794;
constexpr std::uint32_t kSocketAbstract = 2405795;
constexpr std::uint32_t kFileA = 11034722;
constexpr std::uint32_t kFileB = 11034738;
const std::uint64_t kDev = makedev(254, 0);

std::vector<unsigned char> bytes(const std::string& name) {
    const std::string raw = fixture(name);
    return {raw.begin(), raw.end()};
}

Result<UnixDiagBatch> parse(const std::vector<unsigned char>& datagram, std::uint32_t seq = kSeq) {
    return parse_unix_diag_dump(std::span(datagram.data(), datagram.size()), seq);
}

void append(std::vector<unsigned char>& out, const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    out.insert(out.end(), p, p + size);
}

// One message of our own making: header, then `body` (already encoded).
std::vector<unsigned char> message(std::uint16_t type, const std::vector<unsigned char>& body,
                                   std::uint32_t seq = kSeq) {
    nlmsghdr hdr{};
    hdr.nlmsg_len = static_cast<std::uint32_t>(sizeof hdr + body.size());
    hdr.nlmsg_type = type;
    hdr.nlmsg_flags = NLM_F_MULTI;
    hdr.nlmsg_seq = seq;
    std::vector<unsigned char> out;
    append(out, &hdr, sizeof hdr);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

std::vector<unsigned char> attr(std::uint16_t type, const void* payload, std::size_t size,
                                std::uint16_t len_override = 0) {
    const auto len = static_cast<std::uint16_t>(len_override != 0 ? len_override : 4 + size);
    std::vector<unsigned char> out((4 + size + 3) & ~std::size_t{3}, 0);
    std::memcpy(out.data(), &len, 2);
    std::memcpy(out.data() + 2, &type, 2);
    std::memcpy(out.data() + 4, payload, size);
    return out;
}

constexpr std::uint8_t kListen = 10;  // TCP_LISTEN

std::vector<unsigned char> socket_msg(std::uint32_t inode, std::uint8_t state,
                                      const std::vector<unsigned char>& attrs = {}, std::uint8_t family = AF_UNIX) {
    unix_diag_msg msg{};
    msg.udiag_family = family;
    msg.udiag_type = SOCK_STREAM;
    msg.udiag_state = state;
    msg.udiag_ino = inode;
    std::vector<unsigned char> body;
    append(body, &msg, sizeof msg);
    body.insert(body.end(), attrs.begin(), attrs.end());
    return message(SOCK_DIAG_BY_FAMILY, body);
}

std::vector<unsigned char> int_msg(std::uint16_t type, int value, std::uint32_t seq = kSeq) {
    std::vector<unsigned char> body;
    append(body, &value, sizeof value);
    return message(type, body, seq);
}

std::vector<unsigned char> concat(std::initializer_list<std::vector<unsigned char>> parts) {
    std::vector<unsigned char> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

TEST_CASE("sock_diag: the request dumps listening unix sockets with their bound files") {
    const auto req = unix_diag_dump_request(kSeq);
    REQUIRE(req.size() == sizeof(nlmsghdr) + sizeof(unix_diag_req));
    nlmsghdr hdr{};
    std::memcpy(&hdr, req.data(), sizeof hdr);
    CHECK(hdr.nlmsg_len == req.size());
    CHECK(hdr.nlmsg_type == SOCK_DIAG_BY_FAMILY);
    CHECK(hdr.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
    CHECK(hdr.nlmsg_seq == kSeq);
    unix_diag_req body{};
    std::memcpy(&body, req.data() + sizeof hdr, sizeof body);
    CHECK(body.sdiag_family == AF_UNIX);
    CHECK(body.udiag_states == (1U << kListen));
    CHECK(body.udiag_show == UDIAG_SHOW_VFS);
}

TEST_CASE("sock_diag: a recorded dump") {
    auto first = parse(bytes("unix-diag-dump-1.bin"));
    REQUIRE(first.ok());
    const auto& sockets = first.value().sockets;
    CHECK_FALSE(first.value().done);
    REQUIRE(sockets.size() == 3);
    CHECK(sockets[0].inode == kSocketA);
    CHECK(sockets[1].inode == kSocketB);
    CHECK(sockets[2].inode == kSocketAbstract);
    for (const auto& s : sockets) CHECK(s.listening);

    CHECK(listens_on_file(sockets[0], kDev, kFileA));
    CHECK_FALSE(listens_on_file(sockets[0], kDev, kFileB));  // another file
    CHECK(listens_on_file(sockets[1], kDev, kFileB));
    CHECK_FALSE(listens_on_file(sockets[0], makedev(254, 1), kFileA));  // same number, other filesystem
    CHECK_FALSE(listens_on_file(sockets[0], makedev(0, 254), kFileA));  // the kernel's encoding taken for stat's
    CHECK_FALSE(listens_on_file(sockets[0], kDev, kFileA + (std::uint64_t{1} << 32)));  // beyond 32 bits
    CHECK_FALSE(sockets[2].file_inode.has_value());                                     // abstract: bound to no file
    CHECK_FALSE(listens_on_file(sockets[2], kDev, kFileA));

    auto end = parse(bytes("unix-diag-dump-2.bin"));
    REQUIRE(end.ok());
    CHECK(end.value().done);
    CHECK(end.value().sockets.empty());

    // Another request's answer, and every truncation, are refused.
    CHECK_FALSE(parse(bytes("unix-diag-dump-1.bin"), kSeq + 1).ok());
    const auto whole = bytes("unix-diag-dump-1.bin");
    for (std::size_t n = 0; n < whole.size(); ++n) {
        CAPTURE(n);
        const std::vector<unsigned char> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
        auto r = parse(cut);
        // A cut exactly between two messages is a shorter, valid datagram.
        if (n == 52 || n == 104) {
            CHECK(r.ok());
        } else {
            CHECK_FALSE(r.ok());
        }
    }
}

TEST_CASE("sock_diag: bound files and unknown attributes") {
    const unix_diag_vfs vfs{kFileA, 0x0fe00000};
    const std::uint32_t four = 4;
    const auto file = attr(UNIX_DIAG_VFS, &vfs, sizeof vfs);
    const auto unknown = attr(UNIX_DIAG_SHUTDOWN, &four, 1);

    auto r = parse(concat({socket_msg(7, kListen, concat({unknown, file, unknown})), int_msg(NLMSG_DONE, 0)}));
    REQUIRE(r.ok());
    CHECK(r.value().done);
    REQUIRE(r.value().sockets.size() == 1);
    CHECK(listens_on_file(r.value().sockets[0], kDev, kFileA));

    auto idle = parse(socket_msg(8, 7 /* TCP_CLOSE */, file));
    REQUIRE(idle.ok());
    REQUIRE(idle.value().sockets.size() == 1);
    CHECK_FALSE(idle.value().sockets[0].listening);
    CHECK_FALSE(listens_on_file(idle.value().sockets[0], kDev, kFileA));  // bound there, but not listening
}

TEST_CASE("sock_diag: malformed answers are errors") {
    const unix_diag_vfs vfs{kFileA, 0x0fe00000};
    const std::uint32_t four = 4;
    const auto file = attr(UNIX_DIAG_VFS, &vfs, sizeof vfs);
    auto longer = socket_msg(9, kListen, file);
    const auto claimed = static_cast<std::uint32_t>(longer.size() + 4);
    std::memcpy(longer.data(), &claimed, sizeof claimed);
    struct Case {
        const char* what;
        std::vector<unsigned char> bytes;
    };
    const Case cases[] = {
        {"empty", {}},
        {"another message type", int_msg(16 /* RTM_NEWLINK */, 0)},
        {"another socket family", socket_msg(9, kListen, file, AF_INET)},
        {"two file attributes", socket_msg(9, kListen, concat({file, file}))},
        {"a file attribute too short", socket_msg(9, kListen, attr(UNIX_DIAG_VFS, &four, 4))},
        {"an attribute shorter than its header", socket_msg(9, kListen, attr(UNIX_DIAG_SHUTDOWN, &four, 4, 3))},
        {"an attribute longer than the message", socket_msg(9, kListen, attr(UNIX_DIAG_SHUTDOWN, &four, 4, 200))},
        {"a message longer than the datagram", longer},
        {"an error", int_msg(NLMSG_ERROR, -EPERM)},
        {"an error that is no errno", int_msg(NLMSG_ERROR, std::numeric_limits<int>::min())},
        {"an acknowledgement", int_msg(NLMSG_ERROR, 0)},
        {"another request's end", int_msg(NLMSG_DONE, 0, kSeq + 1)},
        {"more after the end", concat({int_msg(NLMSG_DONE, 0), socket_msg(9, kListen, file)})},
    };
    for (const auto& c : cases) {
        CAPTURE(c.what);
        auto r = parse(c.bytes);
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().outcome == Outcome::SystemError);
    }
}

TEST_CASE("fd links") {
    CHECK(parse_socket_link("socket:[12345]") == 12345U);
    CHECK_FALSE(parse_socket_link("socket:[]").has_value());
    CHECK_FALSE(parse_socket_link("socket:[12a]").has_value());
    CHECK_FALSE(parse_socket_link("socket:[-1]").has_value());
    CHECK_FALSE(parse_socket_link("/run/banger/vm1.sock").has_value());
    CHECK_FALSE(parse_socket_link("pipe:[12345]").has_value());
    CHECK_FALSE(parse_socket_link("socket:[12345").has_value());
}
