#include "sys/hardening.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "policy/location.hpp"
#include "policy/path.hpp"
#include "sys/proc_root.hpp"

namespace banger {

bool sanitize_process_start(bool keep_connection) noexcept {
    // fds 0, 1, 2: if the caller closed one, the next open() would land there
    // and our output (or a syslog line) would be written into that file.
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int null_fd = ::open("/dev/null", O_RDWR | O_NOCTTY);  // lowest free fd: exactly `fd`
        if (null_fd != fd) return false;
    }
    // Everything else the caller left open is closed. close_range(2) is a
    // plain syscall on integers; Linux 5.9+. On older kernels fall back to a
    // bounded loop.
    const unsigned first = keep_connection ? 4U : 3U;
    if (::syscall(SYS_close_range, first, ~0U, 0U) != 0) {
        long max = ::sysconf(_SC_OPEN_MAX);
        for (long fd = first; fd < (max > 0 && max < 65536 ? max : 65536); ++fd) ::close(static_cast<int>(fd));
    }
    // Inherited SIG_IGN for SIGPIPE/SIGCHLD or a blocked SIGTERM would change
    // how we behave; start from the defaults.
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        (void)::signal(sig, SIG_DFL);  // fails harmlessly for numbers without a handler slot (32, 33)
    }
    sigset_t none;
    sigemptyset(&none);
    if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) return false;
    // An interval timer armed by the caller survives exec: its signal could
    // end us at a moment of the caller's choosing.
    const itimerval off{};
    for (int timer : {ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF}) {
        if (::setitimer(timer, &off, nullptr) != 0) return false;
    }
    ::umask(077);
    return ::chdir("/") == 0;
}

bool hold_async_signals() noexcept {
    sigset_t held;
    sigfillset(&held);
    // Faults stay deliverable: blocked, they would be fatal without a core or
    // a clear cause. KILL and STOP cannot be blocked at all.
    for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT}) sigdelset(&held, fault);
    return ::sigprocmask(SIG_SETMASK, &held, nullptr) == 0;
}

bool leave_real_time() noexcept {
    // SCHED_RESET_ON_FORK is passed on as set: clearing it would need
    // CAP_SYS_NICE, and it only ever makes children less privileged.
    const int policy = ::sched_getscheduler(0);
    if (policy < 0) return false;
    if (policy == SCHED_OTHER) return true;  // the common case: one call
    const int reset_on_fork = policy & SCHED_RESET_ON_FORK;
    const sched_param ordinary{};
    (void)::sched_setscheduler(0, SCHED_OTHER | reset_on_fork, &ordinary);
    // Leaving SCHED_IDLE may be refused (RLIMIT_NICE): that one is harmless.
    const int now = ::sched_getscheduler(0) & ~SCHED_RESET_ON_FORK;
    return now != SCHED_FIFO && now != SCHED_RR && now != SCHED_DEADLINE;
}

bool reset_caller_priorities() noexcept {
    errno = 0;
    if (::getpriority(PRIO_PROCESS, 0) != 0 || errno != 0) {
        if (::setpriority(PRIO_PROCESS, 0, 0) != 0) return false;
    }
    const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return false;
    const bool written = ::write(fd, "0", 1) == 1;
    return ::close(fd) == 0 && written;
}

void forget_environment() noexcept { (void)::clearenv(); }

int open_interrupt_fd() noexcept {
    sigset_t interrupts;
    sigemptyset(&interrupts);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&interrupts, sig);
    return ::signalfd(-1, &interrupts, SFD_CLOEXEC | SFD_NONBLOCK);
}

std::optional<std::string> unsafe_own_location() {
    auto self = own_executable_path();
    if (!self) return self.failure().reason;
    const std::string& path = self.value();
    if (has_deleted_marker(path)) {
        return "the running binary was deleted or replaced";
    }
    struct stat st {};
    // The binary itself: the inode we are running, not whatever the name holds now.
    if (::stat("/proc/self/exe", &st) != 0) return "cannot stat /proc/self/exe";
    return unsafe_file_location(path, st);
}

std::optional<std::string> unsafe_file_location(const std::string& canonical_path, const struct stat& file) {
    std::vector<PathEntry> chain{PathEntry{canonical_path, file.st_uid, file.st_mode}};
    struct stat st {};
    std::string dir = canonical_path;
    while (dir.size() > 1) {
        std::size_t slash = dir.rfind('/');
        dir = slash == 0 ? "/" : dir.substr(0, slash);
        if (::lstat(dir.c_str(), &st) != 0) return "cannot stat " + dir;
        chain.push_back(PathEntry{dir, st.st_uid, st.st_mode});
    }
    return unsafe_location(chain);
}

}  // namespace banger
