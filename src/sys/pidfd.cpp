#include "sys/pidfd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include <fmt/format.h>

#include "sys/io.hpp"
#include "sys/proc_root.hpp"

namespace banger {

namespace {

// glibc 2.36's <sys/pidfd.h> is not usable from C++ (no extern "C"), so the
// two pidfd calls go through syscall(2). Both take only integers and a null
// siginfo pointer: nothing of ours is exposed to the kernel.
int sys_pidfd_open(int pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U)); }
int sys_pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

Failure gone() { return Failure{Outcome::NoSuchProcess, "process exited"}; }

// A pidfd turns readable once its process has exited, zombie or not (signal
// 0 alone would still succeed on a zombie). Not exited: still the process
// pinned, and its pid still its own.
Status not_exited(int pidfd) {
    pollfd exited{pidfd, POLLIN, 0};
    const int ready = ::poll(&exited, 1, 0);
    if (ready < 0) return system_error("poll(pidfd)", errno);
    if (ready > 0 && (exited.revents & POLLIN) != 0) {
        return Failure{Outcome::NoSuchProcess, "process has exited (a zombie, or already reaped)"};
    }
    return Done{};
}

}  // namespace

Status check_pidfd_support() {
    UniqueFd self(sys_pidfd_open(::getpid()));
    if (!self.valid()) return system_error("pidfd_open fails", errno);
    return Done{};
}

Result<PinnedProcess> PinnedProcess::pin(int proc_fd, Pid pid) {
    UniqueFd process_fd(sys_pidfd_open(pid.get()));
    if (!process_fd.valid()) {
        switch (errno) {
            case ESRCH: return Failure{Outcome::NoSuchProcess, "no process has that pid"};
            // pidfd_open refuses ids that are not thread-group leaders
            // (EINVAL before Linux 6.9, ENOENT since).
            case EINVAL:
            case ENOENT:
                return is_thread_id(proc_fd, pid) ? Failure{Outcome::NotManaged, "that is a thread id, not a process"}
                                                  : Failure{Outcome::NoSuchProcess, "no process has that pid"};
            case ENOSYS:
                return Failure{Outcome::SystemError, "kernel lacks pidfd_open (Linux 5.3 or newer is required)"};
            default: return system_error("pidfd_open", errno);
        }
    }
    const std::string name = std::to_string(pid.get());
    UniqueFd dirfd(::openat(proc_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dirfd.valid()) {
        if (errno == ENOENT || errno == ESRCH) return gone();
        return system_error("cannot open /proc/<pid>", errno);
    }
    // If the pinned process has not exited by now, the pid was not reused
    // between pidfd_open and the openat above: the directory is its own.
    // Signal 0 would prove no more of the pid; verify_alive() sends it where
    // its answer is wanted (before a signal, and for --dry-run's answer).
    if (auto alive = not_exited(process_fd.get()); !alive) return std::move(alive).failure();
    return PinnedProcess(std::move(process_fd), std::move(dirfd));
}

FileFact PinnedProcess::read_file(const char* name, std::size_t cap) const {
    FileFact fact;
    UniqueFd fd(::openat(dirfd_.get(), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        fact.state = errno == ENOENT || errno == ESRCH ? FileState::Gone : FileState::Unreadable;
        fact.error = system_error(fmt::format("cannot open /proc/<pid>/{}", name), errno).reason;
    } else {
        fact = read_all(fd.get(), cap, fmt::format("/proc/<pid>/{}", name));
    }
    // Any failure but an oversized file may be the process exiting under us.
    if (fact.state == FileState::Unreadable && !verify_alive()) fact.state = FileState::Gone;
    return fact;
}

std::optional<std::string> PinnedProcess::read_link(const char* name) const {
    std::array<char, 4097> buf{};
    ssize_t n = ::readlinkat(dirfd_.get(), name, buf.data(), buf.size());
    if (n < 0 || static_cast<std::size_t>(n) >= buf.size()) return std::nullopt;
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

Status PinnedProcess::verify_alive() const {
    if (auto alive = not_exited(pidfd_.get()); !alive) return alive;
    if (sys_pidfd_send_signal(pidfd_.get(), 0) != 0) {
        if (errno == ESRCH) return gone();
        return system_error("pidfd_send_signal(0)", errno);
    }
    return Done{};
}

Status PinnedProcess::send(const Signal& signal) const {
    if (sys_pidfd_send_signal(pidfd_.get(), signal.number()) != 0) {
        if (errno == ESRCH) return gone();
        return system_error(fmt::format("pidfd_send_signal({})", signal.name()), errno);
    }
    return Done{};
}

WaitResult wait_for_exits(const std::vector<int>& pidfds, std::chrono::steady_clock::time_point deadline,
                          int interrupt_fd, int hangup_fd) {
    WaitResult result{std::vector<bool>(pidfds.size(), false), 0, false};
    // The pidfds, then the interrupt fd, then the connection (poll ignores a
    // negative one). POLLRDHUP alone: a caller's unread bytes are no hangup.
    std::vector<pollfd> fds(pidfds.size() + 2);
    for (std::size_t i = 0; i < pidfds.size(); ++i) fds[i] = pollfd{pidfds[i], POLLIN, 0};
    pollfd& interrupt = fds[pidfds.size()];
    pollfd& hangup = fds[pidfds.size() + 1];
    interrupt = pollfd{interrupt_fd, POLLIN, 0};
    hangup = pollfd{hangup_fd, POLLRDHUP, 0};
    std::size_t remaining = pidfds.size();
    while (remaining > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        int timeout = static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
        // A pidfd becomes readable when its process exits: no polling of /proc.
        int n = ::poll(fds.data(), fds.size(), timeout);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // deadline (or poll failure: report what we know)
        for (std::size_t i = 0; i < pidfds.size(); ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                result.exited[i] = true;
                fds[i].fd = -1;
                --remaining;
            }
        }
        if (interrupt.fd >= 0 && (interrupt.revents & POLLIN) != 0) {
            signalfd_siginfo arrived{};
            if (::read(interrupt_fd, &arrived, sizeof arrived) == static_cast<ssize_t>(sizeof arrived)) {
                result.interrupted_by = static_cast<int>(arrived.ssi_signo);
                break;
            }
        }
        if (hangup.fd >= 0 && (hangup.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
            result.hung_up = true;
            break;
        }
        if (timeout == 0) break;
    }
    return result;
}

}  // namespace banger
