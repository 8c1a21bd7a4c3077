// Rule 2's proof that a process serves its api socket. For every unix socket
// among the process's fds, the kernel is asked through sock_diag
// (NETLINK_SOCK_DIAG, UNIX_DIAG with UDIAG_SHOW_VFS) which listening sockets
// are bound to the very file banger-signal finds at the claimed path; one of
// them must be among the process's fds.
//
// Not /proc/<pid>/net/unix: the kernel prints socket names there byte for
// byte, so anyone's abstract socket named "x\n<a whole line>" forges a
// listening entry, and its paths are as the binding process saw them, in a
// mount namespace of its own if it likes.
//
// This file only builds and reads the netlink messages; sys/proc.cpp sends them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "policy/result.hpp"

namespace banger {

// "socket:[12345]" (a readlink of /proc/<pid>/fd/N) -> 12345.
[[nodiscard]] std::optional<std::uint64_t> parse_socket_link(std::string_view link) noexcept;

// A unix socket as sock_diag describes it.
struct UnixSocketInfo {
    std::uint32_t inode = 0;  // the socket's own inode, as in "socket:[N]"
    bool listening = false;
    // The file it is bound to, if any: its inode and the kernel's internal
    // device number (MAJOR << 20 | MINOR), both as the kernel reports them (32 bits).
    std::optional<std::uint32_t> file_inode;
    std::uint32_t file_dev = 0;
    // The socket at the other end of a connected one (UDIAG_SHOW_PEER).
    std::optional<std::uint32_t> peer_inode;
};

// The request for every listening unix socket of the asker's network
// namespace, with the file each is bound to (a dump, UDIAG_SHOW_VFS). One
// dump costs as much as the namespace has listening sockets, whatever the
// target holds; a lookup per socket the target holds would cost that much
// per socket (the kernel finds a socket by inode by walking them all).
[[nodiscard]] std::vector<unsigned char> unix_diag_dump_request(std::uint32_t seq);

// One datagram of the kernel's answer: the sockets it describes, and
// whether it ends the dump (NLMSG_DONE). Failure (SystemError): an error
// from the kernel, or anything that is not a well-formed part of the answer
// to this very request.
struct UnixDiagBatch {
    std::vector<UnixSocketInfo> sockets;
    bool done = false;
};
[[nodiscard]] Result<UnixDiagBatch> parse_unix_diag_dump(std::span<const unsigned char> datagram, std::uint32_t seq);

// The request for one socket by its inode, with the inode of its peer
// (UDIAG_SHOW_PEER): the socket door's connection, to find the caller's end.
[[nodiscard]] std::vector<unsigned char> unix_diag_peer_request(std::uint32_t seq, std::uint32_t inode);

// The kernel's answer to that request: the peer's inode. SystemError for
// anything else (an error, another socket, no peer).
[[nodiscard]] Result<std::uint32_t> parse_unix_diag_peer(std::span<const unsigned char> datagram, std::uint32_t seq,
                                                         std::uint32_t inode);

// Does `socket` listen, bound to the file that stat() describes with
// st_dev/st_ino? A file whose inode number does not fit the kernel's 32-bit
// report cannot be matched: false.
[[nodiscard]] bool listens_on_file(const UnixSocketInfo& socket, std::uint64_t st_dev, std::uint64_t st_ino) noexcept;

}  // namespace banger
