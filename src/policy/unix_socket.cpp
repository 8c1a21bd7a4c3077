#include "policy/unix_socket.hpp"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include <fmt/format.h>

namespace banger {

namespace {

// Unix sockets reuse TCP's state numbers: a listening one is TCP_LISTEN.
constexpr std::uint8_t kTcpListen = 10;
// "Cookie unknown": the lookup goes by inode alone.
constexpr std::uint32_t kNoCookie = ~0U;

// Netlink's 4-byte alignment (NLMSG_ALIGN, RTA_ALIGN), without the macros' casts.
constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3U) & ~std::size_t{3}; }
constexpr std::size_t kHeaderLen = align4(sizeof(nlmsghdr));

struct RtAttr {  // struct rtattr from <linux/rtnetlink.h>
    std::uint16_t len;
    std::uint16_t type;
};

template <typename T>
bool read_at(std::span<const unsigned char> bytes, std::size_t offset, T& out) noexcept {
    if (offset > bytes.size() || bytes.size() - offset < sizeof(T)) return false;
    std::memcpy(&out, bytes.data() + offset, sizeof(T));
    return true;
}

Failure bad_reply(std::string_view why) {
    return Failure{Outcome::SystemError, fmt::format("unexpected answer from sock_diag: {}", why)};
}

std::vector<unsigned char> message(const nlmsghdr& hdr, const unix_diag_req& req) {
    std::vector<unsigned char> out(hdr.nlmsg_len, 0);
    std::memcpy(out.data(), &hdr, sizeof hdr);
    std::memcpy(out.data() + kHeaderLen, &req, sizeof req);
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_socket_link(std::string_view link) noexcept {
    constexpr std::string_view kPrefix = "socket:[";
    if (link.size() <= kPrefix.size() + 1 || !link.starts_with(kPrefix) || !link.ends_with(']')) {
        return std::nullopt;
    }
    const std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
    std::uint64_t inode = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode, 10);
    if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
    return inode;
}

std::vector<unsigned char> unix_diag_dump_request(std::uint32_t seq) {
    unix_diag_req req{};
    req.sdiag_family = AF_UNIX;
    req.udiag_states = 1U << kTcpListen;  // listening sockets only
    req.udiag_show = UDIAG_SHOW_VFS;
    req.udiag_cookie[0] = kNoCookie;
    req.udiag_cookie[1] = kNoCookie;

    nlmsghdr hdr{};
    hdr.nlmsg_len = static_cast<std::uint32_t>(kHeaderLen + sizeof req);
    hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    hdr.nlmsg_seq = seq;

    return message(hdr, req);
}

std::vector<unsigned char> unix_diag_peer_request(std::uint32_t seq, std::uint32_t inode) {
    unix_diag_req req{};
    req.sdiag_family = AF_UNIX;
    req.udiag_states = ~0U;  // whatever state it is in
    req.udiag_ino = inode;
    req.udiag_show = UDIAG_SHOW_PEER;
    req.udiag_cookie[0] = kNoCookie;
    req.udiag_cookie[1] = kNoCookie;

    nlmsghdr hdr{};
    hdr.nlmsg_len = static_cast<std::uint32_t>(kHeaderLen + sizeof req);
    hdr.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    hdr.nlmsg_flags = NLM_F_REQUEST;  // one socket, no dump
    hdr.nlmsg_seq = seq;
    return message(hdr, req);
}

namespace {

// One SOCK_DIAG_BY_FAMILY message (header included).
Result<UnixSocketInfo> parse_socket_message(std::span<const unsigned char> msg) {
    unix_diag_msg diag{};
    if (!read_at(msg, kHeaderLen, diag)) return bad_reply("a truncated socket");
    if (diag.udiag_family != AF_UNIX) return bad_reply("a socket of another family");

    UnixSocketInfo found;
    found.inode = diag.udiag_ino;
    found.listening = diag.udiag_state == kTcpListen;
    for (std::size_t at = kHeaderLen + align4(sizeof diag); at < msg.size();) {
        RtAttr attr{};
        if (!read_at(msg, at, attr) || attr.len < sizeof attr || attr.len > msg.size() - at) {
            return bad_reply("a malformed attribute");
        }
        if ((attr.type & NLA_TYPE_MASK) == UNIX_DIAG_VFS) {
            unix_diag_vfs vfs{};
            if (attr.len < sizeof attr + sizeof vfs || !read_at(msg, at + sizeof attr, vfs)) {
                return bad_reply("a truncated file attribute");
            }
            if (found.file_inode) return bad_reply("two file attributes");
            found.file_inode = vfs.udiag_vfs_ino;
            found.file_dev = vfs.udiag_vfs_dev;
        } else if ((attr.type & NLA_TYPE_MASK) == UNIX_DIAG_PEER) {
            std::uint32_t peer = 0;
            if (attr.len < sizeof attr + sizeof peer || !read_at(msg, at + sizeof attr, peer)) {
                return bad_reply("a truncated peer attribute");
            }
            if (found.peer_inode) return bad_reply("two peer attributes");
            found.peer_inode = peer;
        }
        at += align4(attr.len);
    }
    return found;
}

}  // namespace

Result<UnixDiagBatch> parse_unix_diag_dump(std::span<const unsigned char> datagram, std::uint32_t seq) {
    UnixDiagBatch batch;
    if (datagram.empty()) return bad_reply("an empty datagram");
    for (std::size_t at = 0; at < datagram.size();) {
        if (batch.done) return bad_reply("more after the end of the dump");
        nlmsghdr hdr{};
        if (!read_at(datagram, at, hdr)) return bad_reply("a truncated message header");
        if (hdr.nlmsg_len < kHeaderLen || hdr.nlmsg_len > datagram.size() - at)
            return bad_reply("a bad message length");
        if (hdr.nlmsg_seq != seq) return bad_reply("an answer to another request");
        const auto msg = datagram.subspan(at, hdr.nlmsg_len);
        switch (hdr.nlmsg_type) {
            case SOCK_DIAG_BY_FAMILY: {
                auto described = parse_socket_message(msg);
                if (!described) return std::move(described).failure();
                batch.sockets.push_back(described.value());
                break;
            }
            case NLMSG_DONE: batch.done = true; break;
            case NLMSG_ERROR: {
                int error = 0;  // struct nlmsgerr starts with it
                if (!read_at(msg, kHeaderLen, error)) return bad_reply("a truncated error");
                if (error >= 0) return bad_reply("an acknowledgement instead of an answer");
                if (error < -4095)
                    return bad_reply(fmt::format("error {}", error));  // not an errno (and -INT_MIN overflows)
                return bad_reply(std::strerror(-error));
            }
            default: return bad_reply("a message of another type");
        }
        // The last message of a datagram need not be padded to alignment.
        at += std::min(align4(hdr.nlmsg_len), datagram.size() - at);
    }
    return batch;
}

Result<std::uint32_t> parse_unix_diag_peer(std::span<const unsigned char> datagram, std::uint32_t seq,
                                           std::uint32_t inode) {
    auto batch = parse_unix_diag_dump(datagram, seq);
    if (!batch) return std::move(batch).failure();
    // A lookup is answered with the one socket, and no end-of-dump.
    if (batch.value().done || batch.value().sockets.size() != 1) return bad_reply("not one socket");
    const UnixSocketInfo& found = batch.value().sockets.front();
    if (found.inode != inode) return bad_reply("another socket");
    if (!found.peer_inode || *found.peer_inode == 0) return bad_reply("a socket without a peer");
    return *found.peer_inode;
}

bool listens_on_file(const UnixSocketInfo& socket, std::uint64_t st_dev, std::uint64_t st_ino) noexcept {
    if (!socket.listening || !socket.file_inode) return false;
    if (st_ino > std::numeric_limits<std::uint32_t>::max() || *socket.file_inode != st_ino) return false;
    // The kernel reports its internal dev_t (major in the top 12 bits, minor in
    // the low 20); stat() encodes it another way: compare as makedev() does.
    return makedev(socket.file_dev >> 20U, socket.file_dev & 0xfffffU) == st_dev;
}

}  // namespace banger
