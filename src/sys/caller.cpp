#include "sys/caller.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "policy/pid.hpp"
#include "policy/proc_stat.hpp"
#include "policy/proc_status.hpp"
#include "sys/io.hpp"
#include "sys/pidfd.hpp"
#include "sys/sock_diag.hpp"

namespace banger {

namespace {

// Linux 6.5's getsockopt for a pidfd of the peer; older headers lack it.
#ifndef SO_PEERPIDFD
constexpr int SO_PEERPIDFD = 77;
#endif

Failure gone(int pid) {
    return Failure{Outcome::NotAuthorized,
                   fmt::format("the caller (pid {}) exited before polkit was asked; polkit is never asked about a "
                               "process that is not the caller",
                               pid)};
}

bool exited(int pidfd) {
    // A pidfd turns readable when its process exits.
    pollfd fd{pidfd, POLLIN, 0};
    return ::poll(&fd, 1, 0) > 0 && (fd.revents & POLLIN) != 0;
}

// The real uid of `pid` now, from its status, or nullopt.
std::optional<uid_t> real_uid_of(int proc_fd, int pid) {
    auto status = read_small_file(proc_fd, (std::to_string(pid) + "/status").c_str(), 16384);
    auto creds = status ? parse_status_credentials(*status) : std::nullopt;
    if (!creds) return std::nullopt;
    return creds->uids[0];
}

Result<std::uint64_t> start_time_of(int proc_fd, int pid) {
    auto stat_text = read_small_file(proc_fd, (std::to_string(pid) + "/stat").c_str(), 4096);
    auto stat = stat_text ? parse_proc_stat(*stat_text) : Result<ProcStat>(Failure{Outcome::SystemError, ""});
    if (!stat) return Failure{Outcome::SystemError, fmt::format("cannot read the caller's /proc/{}/stat", pid)};
    return stat.value().start_time;
}

}  // namespace

Result<PinnedCaller> PinnedCaller::parent(int proc_fd) {
    const pid_t parent = ::getppid();
    // pkexec itself refuses a caller whose parent is PID 1; ours being PID 1
    // means the caller exited and we were reparented.
    if (parent <= 1) return gone(parent);
    // syscall(2): pidfd_open takes two integers (see sys/pidfd.cpp).
    UniqueFd parent_fd(static_cast<int>(::syscall(SYS_pidfd_open, parent, 0U)));
    if (!parent_fd.valid()) return gone(parent);
    auto start = start_time_of(proc_fd, parent);
    PinnedCaller caller(true, parent, std::move(parent_fd), start ? start.value() : 0, ::getuid(), false);
    // Still our parent now: the pidfd and the start time were its own.
    if (auto alive = caller.still_there(); !alive) return std::move(alive).failure();
    if (!start) return std::move(start).failure();
    return caller;
}

Result<PinnedCaller> PinnedCaller::peer(int proc_fd, int connection, bool kernel_pidfd) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return system_error("cannot ask who is calling (SO_PEERCRED)", errno);
    }
    // 0: the peer's pid namespace is not ours or below it.
    const auto peer_pid = Pid::from(cred.pid > 0 ? static_cast<std::uint32_t>(cred.pid) : 0U);
    if (!peer_pid) {
        return Failure{
            Outcome::NotAuthorized,
            "the caller's process cannot be named in this pid namespace, so polkit cannot be asked about it"};
    }
    UniqueFd peer_fd;
    if (kernel_pidfd) {
        int fd = -1;
        len = sizeof fd;
        if (::getsockopt(connection, SOL_SOCKET, SO_PEERPIDFD, &fd, &len) == 0) {
            peer_fd.reset(fd);
        } else if (errno == ESRCH) {
            return gone(cred.pid);
        } else if (errno != ENOPROTOOPT) {
            return system_error("cannot pin the caller (SO_PEERPIDFD)", errno);
        }
    }
    const bool by_kernel = peer_fd.valid();
    // Before Linux 6.5: pin the pid, then prove below that it is the peer.
    if (!by_kernel) peer_fd.reset(static_cast<int>(::syscall(SYS_pidfd_open, cred.pid, 0U)));
    if (!peer_fd.valid()) return gone(cred.pid);
    auto start = start_time_of(proc_fd, cred.pid);
    const std::optional<uid_t> real_uid = real_uid_of(proc_fd, cred.pid);
    PinnedCaller caller(false, cred.pid, std::move(peer_fd), start ? start.value() : 0, cred.uid, by_kernel);
    // Alive after the reads: stat and status were the pinned process's own.
    if (auto alive = caller.still_there(); !alive) return std::move(alive).failure();
    if (!start) return std::move(start).failure();
    // The uid the kernel names for the connection is the effective one at
    // connect(). A process whose real uid is another (a setuid program) would
    // be taken for its owner, by polkit too, which checks the real uid only
    // for callers that do not own the action: such a caller is nobody's.
    if (!real_uid || *real_uid != cred.uid) {
        return Failure{Outcome::NotAuthorized,
                       fmt::format("the caller (pid {}) connected as uid {} but its real uid is {}: polkit is asked "
                                   "only about a caller whose ids agree",
                                   cred.pid, cred.uid, real_uid ? std::to_string(*real_uid) : "unknown")};
    }
    if (!by_kernel) {
        auto pinned = PinnedProcess::pin(proc_fd, *peer_pid);
        if (!pinned) return gone(cred.pid);
        auto held = holds_peer_of(pinned.value(), connection);
        if (!held) {
            if (held.failure().outcome == Outcome::NoSuchProcess) return gone(cred.pid);
            if (held.failure().outcome == Outcome::SystemError) return std::move(held).failure();
            return Failure{Outcome::NotAuthorized,
                           fmt::format("pid {} does not hold the caller's end of the connection (it exited, and its "
                                       "pid went to another process?); polkit is never asked about it",
                                       cred.pid)};
        }
        // The same process throughout: alive still, so never replaced.
        if (exited(caller.pidfd()) || !pinned.value().verify_alive()) return gone(cred.pid);
    }
    return caller;
}

Status PinnedCaller::still_there() const {
    // getppid() changes the moment our parent exits.
    if ((parent_ && ::getppid() != pid_) || exited(pidfd_.get())) return gone(pid_);
    return Done{};
}

}  // namespace banger
