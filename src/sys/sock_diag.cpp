#include "sys/sock_diag.hpp"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "policy/unix_socket.hpp"
#include "sys/deadline.hpp"
#include "sys/io.hpp"

namespace banger {

namespace {

Failure gone() { return Failure{Outcome::NoSuchProcess, "process exited"}; }

Failure not_managed(std::string reason) { return Failure{Outcome::NotManaged, std::move(reason)}; }

// Socket inodes of the process's open fds.
Result<std::vector<std::uint64_t>> fd_socket_inodes(const PinnedProcess& pinned) {
    UniqueDir dir = open_dir_at(pinned.proc_dir(), "fd");
    if (!dir) {
        if (errno == ENOENT || errno == ESRCH) return gone();
        return system_error("cannot open /proc/<pid>/fd", errno);
    }
    std::vector<std::uint64_t> inodes;
    std::array<char, 64> link{};
    while (const struct dirent* entry = next_entry(dir.get())) {
        if (entry->d_name[0] == '.') continue;
        ssize_t n = ::readlinkat(::dirfd(dir.get()), entry->d_name, link.data(), link.size() - 1);
        if (n <= 0) continue;  // closed meanwhile
        if (auto inode = parse_socket_link(std::string_view(link.data(), static_cast<std::size_t>(n)))) {
            inodes.push_back(*inode);
        }
    }
    int err = errno;
    if (err == ESRCH || err == ENOENT) return gone();
    if (err != 0) return system_error("cannot list /proc/<pid>/fd", err);
    return inodes;
}

// lstat() of `path`, which lies strictly below `dir` (both absolute and
// normalized: the judge made sure). `dir` is opened as configured (root wrote
// it, and it may pass through a symlink such as /var/run), but no component
// below it may be a symlink: else a link inside runtime_dir to a directory
// others can write would let anyone's socket stand at P.
Result<struct stat> stat_below(const std::string& dir, const std::string& path) {
    auto missing = [&](int err) -> Failure {
        if (err == ENOENT) return not_managed(fmt::format("there is no socket at {}", path));
        if (err == ENAMETOOLONG) return not_managed(fmt::format("{} has a component too long for a file name", path));
        if (err == ENOTDIR || err == ELOOP) {
            return not_managed(fmt::format("{} passes through a symlink or a non-directory below {}", path, dir));
        }
        return system_error(fmt::format("cannot look up {}", path), err);
    };
    UniqueFd at(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!at.valid()) return missing(errno == ENOTDIR ? ENOENT : errno);
    std::string_view rest = std::string_view(path).substr(dir.size());
    while (!rest.empty() && rest.front() == '/') rest.remove_prefix(1);
    for (std::size_t slash = rest.find('/'); slash != std::string_view::npos; slash = rest.find('/')) {
        const std::string name(rest.substr(0, slash));
        UniqueFd next(::openat(at.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!next.valid()) return missing(errno);
        at = std::move(next);
        rest.remove_prefix(slash + 1);
    }
    struct stat st {};
    if (rest.empty() || ::fstatat(at.get(), std::string(rest).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return missing(rest.empty() ? ENOENT : errno);
    }
    return st;
}

// One question to sock_diag and its answer, one datagram.
Result<std::vector<unsigned char>> ask_sock_diag(const std::vector<unsigned char>& request) {
    UniqueFd diag(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!diag.valid()) return system_error("cannot open a sock_diag socket", errno);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(diag.get(), request.data(), request.size(), 0,
                 reinterpret_cast<const sockaddr*>(
                     &kernel),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): sockaddr API
                 sizeof kernel) < 0) {
        return system_error("cannot ask sock_diag", errno);
    }
    std::vector<unsigned char> datagram(8192);
    ssize_t n = 0;
    do {
        n = ::recv(diag.get(), datagram.data(), datagram.size(), 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return system_error("cannot read from sock_diag", errno);
    datagram.resize(static_cast<std::size_t>(n));
    return datagram;
}

// The proof itself; a failure other than NotManaged may be the process
// exiting under us, which serves_unix_socket_at() tells apart.
Status prove(const PinnedProcess& pinned, const std::string& runtime_dir, const std::string& path) {
    // The one step that may wait on a file system someone else serves (FUSE
    // mounted below the runtime dir): judging's deadline watches from here.
    if (auto watched = watch_armed_deadline(); !watched) return watched;
    auto found = stat_below(runtime_dir, path);
    if (!found) return std::move(found).failure();
    const struct stat file = found.value();
    if (!S_ISSOCK(file.st_mode)) return not_managed(fmt::format("{} is not a socket", path));

    // Which listening sockets are bound to that very file (normally one)...
    UniqueFd diag(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
    if (!diag.valid()) return system_error("cannot open a sock_diag socket", errno);
    constexpr std::uint32_t kSeq = 1;
    const std::vector<unsigned char> request = unix_diag_dump_request(kSeq);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::sendto(diag.get(), request.data(), request.size(), 0,
                 reinterpret_cast<const sockaddr*>(
                     &kernel),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): sockaddr API
                 sizeof kernel) < 0) {
        return system_error("cannot ask sock_diag", errno);
    }
    std::vector<std::uint64_t> bound_here;
    std::vector<unsigned char> datagram(65536);
    constexpr std::size_t kMaxDatagrams = 65536;  // a dump of a few million sockets at most
    for (std::size_t i = 0;; ++i) {
        if (i == kMaxDatagrams) return system_error("sock_diag's answer does not end", EOVERFLOW);
        ssize_t n = 0;
        do {
            n = ::recv(diag.get(), datagram.data(), datagram.size(), 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0) return system_error("cannot read from sock_diag", errno);
        auto batch = parse_unix_diag_dump(std::span(datagram.data(), static_cast<std::size_t>(n)), kSeq);
        if (!batch) return std::move(batch).failure();
        for (const UnixSocketInfo& listener : batch.value().sockets) {
            if (listens_on_file(listener, file.st_dev, file.st_ino)) bound_here.push_back(listener.inode);
        }
        if (batch.value().done) break;
    }
    if (bound_here.empty()) return not_managed(fmt::format("no socket listens on {}", path));

    // ...and does the process hold one of them?
    auto held = fd_socket_inodes(pinned);
    if (!held) return std::move(held).failure();
    for (std::uint64_t inode : held.value()) {
        if (std::find(bound_here.begin(), bound_here.end(), inode) != bound_here.end()) return Done{};
    }
    return not_managed(fmt::format("it does not hold a listening socket bound to {}", path));
}

}  // namespace

Status holds_peer_of(const PinnedProcess& pinned, int connection) {
    struct stat ours {};
    if (::fstat(connection, &ours) != 0) return system_error("cannot stat the connection", errno);
    if (ours.st_ino > UINT32_MAX) return system_error("the connection's inode is out of sock_diag's range", EOVERFLOW);
    const auto inode = static_cast<std::uint32_t>(ours.st_ino);
    constexpr std::uint32_t kSeq = 2;
    auto answer = ask_sock_diag(unix_diag_peer_request(kSeq, inode));
    if (!answer) return std::move(answer).failure();
    auto peer = parse_unix_diag_peer(answer.value(), kSeq, inode);
    if (!peer) return std::move(peer).failure();
    auto held = fd_socket_inodes(pinned);
    if (!held) return std::move(held).failure();
    if (std::find(held.value().begin(), held.value().end(), peer.value()) != held.value().end()) return Done{};
    return not_managed("it does not hold the other end of the connection");
}

Status serves_unix_socket_at(const PinnedProcess& pinned, const std::string& runtime_dir, const std::string& path) {
    Status proof = prove(pinned, runtime_dir, path);
    if (!proof && proof.failure().outcome != Outcome::NotManaged && !pinned.verify_alive()) {
        return Failure{Outcome::NoSuchProcess, "process exited during the checks"};
    }
    return proof;
}

}  // namespace banger
