#include "sys/proc_root.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "sys/io.hpp"

namespace banger {

Result<std::string> own_executable_path() {
    std::array<char, 4097> buf{};
    ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) return system_error("cannot read /proc/self/exe", errno);
    return std::string(buf.data(), static_cast<std::size_t>(n));
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
    // at PID 1's namespaces, and the helper user may not see PID 1 at all
    // (hidepid). Then the one namespace whose paths are known to be absolute
    // is the initial one.
    if (errno == EACCES || errno == EPERM || errno == ENOENT) return ours.st_ino == kInitialCgroupNsInode;
    return false;
}

std::optional<std::string> read_proc_file(int proc_fd, const char* name, std::size_t cap) {
    return read_small_file(proc_fd, name, cap);
}

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

}  // namespace banger
