#include "sys/proc.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <span>

#include <fmt/format.h>

#include "policy/cgroup.hpp"
#include "policy/path.hpp"
#include "policy/unix_socket.hpp"

namespace banger {

namespace {

// glibc 2.36's <sys/pidfd.h> is not usable from C++ (no extern "C"), so the
// two pidfd calls go through syscall(2). Both take only integers and a null
// siginfo pointer: nothing of ours is exposed to the kernel.
int sys_pidfd_open(int pid) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}
int sys_pidfd_send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

Failure system_error(std::string_view what, int err) {
    return Failure{Outcome::SystemError, fmt::format("{}: {}", what, std::strerror(err))};
}

Failure gone() { return Failure{Outcome::NoSuchProcess, "process exited"}; }

Failure not_managed(std::string reason) { return Failure{Outcome::NotManaged, std::move(reason)}; }

// readdir() reports an error only through errno, and so can whatever runs
// between two calls (a failed readlinkat of an fd closed meanwhile leaves
// ENOENT): errno is cleared right before each call, so after the loop it is
// readdir's own.
const struct dirent* next_entry(DIR* dir) noexcept {
    errno = 0;
    return ::readdir(dir);
}

// Reads all of `fd` up to `cap` bytes; more than that is NotManaged.
Result<std::string> read_capped(int fd, std::size_t cap, std::string_view what) {
    std::string data;
    std::array<char, 16384> buf{};
    while (true) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ESRCH) return gone();
            return system_error(fmt::format("cannot read {}", what), errno);
        }
        if (n == 0) break;
        if (data.size() + static_cast<std::size_t>(n) > cap) {
            return Failure{Outcome::NotManaged, fmt::format("{} is larger than {} bytes", what, cap)};
        }
        data.append(buf.data(), static_cast<std::size_t>(n));
    }
    return data;
}

struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

// `name` below `at` as a directory stream; null with errno set on failure.
UniqueDir open_dir_at(int at, const char* name) {
    int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return nullptr;
    DIR* dir = ::fdopendir(fd);  // owns fd from here on
    if (dir == nullptr) {
        int err = errno;
        ::close(fd);
        errno = err;
    }
    return UniqueDir(dir);
}

}  // namespace

Result<std::string> own_executable_path() {
    std::array<char, 4097> buf{};
    ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) return system_error("cannot read /proc/self/exe", errno);
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

Status check_pidfd_support() {
    UniqueFd self(sys_pidfd_open(::getpid()));
    if (!self.valid()) return system_error("pidfd_open fails", errno);
    return Done{};
}

Result<UniqueFd> open_proc_root() {
    UniqueFd fd(::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return system_error("cannot open /proc", errno);
    struct statfs fs {};
    if (::fstatfs(fd.get(), &fs) != 0) return system_error("cannot statfs /proc", errno);
    // Every fact comes from here; it must be the kernel's procfs.
    if (fs.f_type != PROC_SUPER_MAGIC) return Failure{Outcome::SystemError, "/proc is not procfs"};
    return fd;
}

std::uint32_t read_pid_max(int proc_fd) {
    auto content = read_proc_file(proc_fd, "sys/kernel/pid_max", 64);
    if (!content) return kPidMaxLimit;
    return parse_pid_max(*content).value_or(kPidMaxLimit);
}

bool same_cgroup_namespace_as_init(int proc_fd) {
    // PROC_CGROUP_INIT_INO (include/linux/proc_ns.h): the inode number of the
    // kernel's initial cgroup namespace, stable since cgroup namespaces exist.
    constexpr ino_t kInitialCgroupNsInode = 0xEFFFFFFBU;
    struct stat ours {};
    struct stat init {};
    if (::fstatat(proc_fd, "self/ns/cgroup", &ours, 0) != 0) return false;
    if (::fstatat(proc_fd, "1/ns/cgroup", &init, 0) == 0) {
        return ours.st_dev == init.st_dev && ours.st_ino == init.st_ino;
    }
    // Some sandboxes (an LSM, a ptrace-protected PID 1) deny even root a look
    // at PID 1's namespaces. Then the one namespace whose paths are known to be
    // absolute is the initial one.
    if (errno == EACCES || errno == EPERM) return ours.st_ino == kInitialCgroupNsInode;
    return false;
}

std::optional<std::string> read_proc_file(int proc_fd, const char* name, std::size_t cap) {
    UniqueFd fd(::openat(proc_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return std::nullopt;
    auto content = read_capped(fd.get(), cap, name);
    if (!content) return std::nullopt;
    return std::move(content).value();
}

// /proc/<pid>/status names a thread group other than <pid>: a thread.
bool is_thread_id(int proc_fd, Pid pid) {
    const std::string name = std::to_string(pid.get()) + "/status";
    auto status = read_proc_file(proc_fd, name.c_str(), 16384);
    if (!status) return false;
    const std::string& text = *status;
    std::size_t at = text.find("\nTgid:\t");
    if (at == std::string::npos) return false;
    std::size_t start = at + 7;
    std::size_t end = text.find('\n', start);
    return text.substr(start, end - start) != std::to_string(pid.get());
}

Result<std::vector<std::uint32_t>> list_pids(int proc_fd) {
    UniqueDir dir = open_dir_at(proc_fd, ".");
    if (!dir) return system_error("cannot open /proc", errno);
    std::vector<std::uint32_t> pids;
    while (const struct dirent* entry = next_entry(dir.get())) {
        // Only numeric names; threads are hidden from the listing.
        auto pid = parse_pid_number(entry->d_name, kPidMaxLimit);
        if (pid) pids.push_back(pid.value());
    }
    if (errno != 0) return system_error("cannot list /proc", errno);
    return pids;
}

std::vector<std::uint32_t> pids_with_exe_name(int proc_fd, const std::vector<std::uint32_t>& pids,
                                              std::string_view name) {
    std::vector<std::uint32_t> out;
    std::array<char, 4097> buf{};
    for (std::uint32_t pid : pids) {
        const std::string link = std::to_string(pid) + "/exe";
        ssize_t n = ::readlinkat(proc_fd, link.c_str(), buf.data(), buf.size() - 1);
        if (n <= 0) continue;  // kernel thread, zombie, or gone
        if (base_name(std::string_view(buf.data(), static_cast<std::size_t>(n))) == name) out.push_back(pid);
    }
    return out;
}

std::optional<std::vector<std::uint32_t>> cgroup_tree_pids(const std::string& dir) {
    constexpr std::size_t kMaxCgroups = 100000;  // bounds the walk; a miss only shortens the listing
    std::vector<std::uint32_t> pids;
    std::vector<UniqueFd> pending;
    UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!root.valid()) return std::nullopt;
    pending.push_back(std::move(root));
    std::size_t visited = 0;
    while (!pending.empty() && visited++ < kMaxCgroups) {
        UniqueFd cg = std::move(pending.back());
        pending.pop_back();
        UniqueFd procs(::openat(cg.get(), "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (procs.valid()) {
            if (auto content = read_capped(procs.get(), std::size_t{16} << 20, "cgroup.procs")) {
                for (std::uint32_t pid : parse_cgroup_procs(content.value())) pids.push_back(pid);
            }
        }
        UniqueDir listing = open_dir_at(cg.get(), ".");
        if (!listing) continue;
        while (const struct dirent* entry = next_entry(listing.get())) {
            if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
            UniqueFd child(::openat(cg.get(), entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
            if (child.valid()) pending.push_back(std::move(child));
        }
    }
    return pids;
}

WaitResult wait_for_exits(const std::vector<int>& pidfds, std::chrono::steady_clock::time_point deadline,
                          int interrupt_fd) {
    WaitResult result{std::vector<bool>(pidfds.size(), false), 0};
    // The pidfds, then the interrupt fd (poll ignores a negative one).
    std::vector<pollfd> fds(pidfds.size() + 1);
    for (std::size_t i = 0; i < pidfds.size(); ++i) fds[i] = pollfd{pidfds[i], POLLIN, 0};
    fds.back() = pollfd{interrupt_fd, POLLIN, 0};
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
        if (fds.back().fd >= 0 && (fds.back().revents & POLLIN) != 0) {
            signalfd_siginfo arrived{};
            if (::read(interrupt_fd, &arrived, sizeof arrived) == static_cast<ssize_t>(sizeof arrived)) {
                result.interrupted_by = static_cast<int>(arrived.ssi_signo);
                break;
            }
        }
        if (timeout == 0) break;
    }
    return result;
}

Result<PinnedProcess> PinnedProcess::pin(int proc_fd, Pid pid) {
    UniqueFd process_fd(sys_pidfd_open(pid.get()));
    if (!process_fd.valid()) {
        switch (errno) {
            case ESRCH: return Failure{Outcome::NoSuchProcess, "no process has that pid"};
            // pidfd_open refuses ids that are not thread-group leaders
            // (EINVAL before Linux 6.9, ENOENT since).
            case EINVAL:
            case ENOENT: return is_thread_id(proc_fd, pid) ? Failure{Outcome::NotManaged, "that is a thread id, not a process"}
                                                           : Failure{Outcome::NoSuchProcess, "no process has that pid"};
            case ENOSYS: return Failure{Outcome::SystemError, "kernel lacks pidfd_open (Linux 5.3 or newer is required)"};
            default: return system_error("pidfd_open", errno);
        }
    }
    const std::string name = std::to_string(pid.get());
    UniqueFd dirfd(::openat(proc_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dirfd.valid()) {
        if (errno == ENOENT || errno == ESRCH) return gone();
        return system_error("cannot open /proc/<pid>", errno);
    }
    PinnedProcess pinned(pid, std::move(process_fd), std::move(dirfd));
    // If the pinned process is still alive now, the pid was not reused
    // between pidfd_open and the openat above: the directory is its own.
    if (auto alive = pinned.verify_alive(); !alive) return std::move(alive).failure();
    return pinned;
}

Result<std::string> PinnedProcess::read_file(const char* name, std::size_t cap) const {
    UniqueFd fd(::openat(dirfd_.get(), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        if (errno == ENOENT || errno == ESRCH) return gone();
        return system_error(fmt::format("cannot open /proc/<pid>/{}", name), errno);
    }
    return read_capped(fd.get(), cap, fmt::format("/proc/<pid>/{}", name));
}

std::optional<std::string> PinnedProcess::read_link(const char* name) const {
    std::array<char, 4097> buf{};
    ssize_t n = ::readlinkat(dirfd_.get(), name, buf.data(), buf.size());
    if (n < 0 || static_cast<std::size_t>(n) >= buf.size()) return std::nullopt;
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

Result<std::vector<std::uint64_t>> PinnedProcess::fd_socket_inodes() const {
    UniqueDir dir = open_dir_at(dirfd_.get(), "fd");
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

namespace {

// lstat() of `path`, which lies strictly below `dir` (both absolute and
// normalized: the judge made sure). `dir` is opened as configured (root wrote
// it, and it may pass through a symlink such as /var/run), but no component
// below it may be a symlink: else a link inside runtime_dir to a directory
// others can write would let anyone's socket stand at P.
Result<struct stat> stat_below(const std::string& dir, const std::string& path) {
    auto missing = [&](int err) -> Failure {
        if (err == ENOENT) return not_managed(fmt::format("there is no socket at {}", path));
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

}  // namespace

Status PinnedProcess::serves_unix_socket_at(const std::string& runtime_dir, const std::string& path) const {
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
    if (::sendto(diag.get(), request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): sockaddr API
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
    auto held = fd_socket_inodes();
    if (!held) return std::move(held).failure();
    for (std::uint64_t inode : held.value()) {
        if (std::find(bound_here.begin(), bound_here.end(), inode) != bound_here.end()) return Done{};
    }
    return not_managed(fmt::format("it does not hold a listening socket bound to {}", path));
}

Status PinnedProcess::verify_alive() const {
    // A pidfd turns readable once its process has exited, zombie or not;
    // signal 0 alone would still succeed on a zombie.
    pollfd exited{pidfd_.get(), POLLIN, 0};
    if (::poll(&exited, 1, 0) > 0 && (exited.revents & POLLIN) != 0) {
        return Failure{Outcome::NoSuchProcess, "process has exited (a zombie, or already reaped)"};
    }
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

}  // namespace banger
