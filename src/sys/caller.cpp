#include "sys/caller.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

#include "policy/proc_stat.hpp"
#include "sys/io.hpp"

namespace banger {

namespace {

Failure gone(int pid) {
    return Failure{Outcome::NotAuthorized,
                   fmt::format("the caller (pid {}) exited before polkit was asked; polkit is never asked about a "
                               "process that is not the caller",
                               pid)};
}

}  // namespace

Result<PinnedCaller> PinnedCaller::pin(int proc_fd) {
    const pid_t parent = ::getppid();
    // pkexec itself refuses a caller whose parent is PID 1; ours being PID 1
    // means the caller exited and we were reparented.
    if (parent <= 1) return gone(parent);
    // syscall(2): pidfd_open takes two integers (see sys/pidfd.cpp).
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, parent, 0U)));
    if (!pidfd.valid()) return gone(parent);
    auto stat_text = read_small_file(proc_fd, (std::to_string(parent) + "/stat").c_str(), 4096);
    auto stat = stat_text ? parse_proc_stat(*stat_text) : Result<ProcStat>(Failure{Outcome::SystemError, ""});
    PinnedCaller caller(parent, std::move(pidfd), stat ? stat.value().start_time : 0);
    // Still our parent now: the pidfd and the start time were its own.
    if (auto alive = caller.still_our_parent(); !alive) return std::move(alive).failure();
    if (!stat) return Failure{Outcome::SystemError, fmt::format("cannot read the caller's /proc/{}/stat", parent)};
    return caller;
}

Status PinnedCaller::still_our_parent() const {
    // The pidfd turns readable when the process exits; getppid() changes
    // the moment it does.
    pollfd exited{pidfd_.get(), POLLIN, 0};
    if (::getppid() != pid_ || (::poll(&exited, 1, 0) > 0 && (exited.revents & POLLIN) != 0)) return gone(pid_);
    return Done{};
}

}  // namespace banger
