// The thin layer over /proc and pidfds. Every read of another process goes
// through a PinnedProcess: a pidfd that holds the process, plus a directory fd
// on its /proc entry, and every file is read relative to that directory fd,
// size-capped.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/pid.hpp"
#include "policy/result.hpp"
#include "policy/signal_name.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

// Opens /proc and checks that it is procfs. Everything else is relative to it.
[[nodiscard]] Result<UniqueFd> open_proc_root();

// The path of the running binary (/proc/self/exe), or the errno why not.
[[nodiscard]] Result<std::string> own_executable_path();

// Whether pidfd_open works here (Linux 5.3+); SystemError with the reason if not.
[[nodiscard]] Status check_pidfd_support();

// /proc/sys/kernel/pid_max, or kPidMaxLimit if unreadable.
[[nodiscard]] std::uint32_t read_pid_max(int proc_fd);

// Whether our cgroup namespace is PID 1's (false when unknown: fail closed).
[[nodiscard]] bool same_cgroup_namespace_as_init(int proc_fd);

// A file below /proc (e.g. "self/mountinfo"), at most `cap` bytes.
[[nodiscard]] std::optional<std::string> read_proc_file(int proc_fd, const char* name, std::size_t cap);

// Every numeric entry of /proc (processes, not threads), in directory order.
[[nodiscard]] Result<std::vector<std::uint32_t>> list_pids(int proc_fd);

// Pids whose /proc/<pid>/exe link ends in "/<name>" (one readlink each; no
// pinning: the result only picks candidates for --list).
[[nodiscard]] std::vector<std::uint32_t> pids_with_exe_name(int proc_fd, const std::vector<std::uint32_t>& pids,
                                                            std::string_view name);

// Pids in the cgroup directory `dir` and every cgroup below it (cgroup.procs),
// or nullopt if `dir` cannot be walked. Candidates only, like the above.
[[nodiscard]] std::optional<std::vector<std::uint32_t>> cgroup_tree_pids(const std::string& dir);

// Waits until each pidfd reports its process has exited, or the deadline
// passes (one deadline for all), or `interrupt_fd` (a signalfd, or -1)
// turns readable. exited[i] tells about pidfds[i]; interrupted_by is the
// signal that ended the wait early, or 0.
struct WaitResult {
    std::vector<bool> exited;
    int interrupted_by = 0;
};
[[nodiscard]] WaitResult wait_for_exits(const std::vector<int>& pidfds, std::chrono::steady_clock::time_point deadline,
                                        int interrupt_fd);

class PinnedProcess {
public:
    // pidfd_open(pid) first, then /proc/<pid>; then checks the pidfd is still
    // alive, which proves the directory belongs to the pinned process (the
    // pid cannot have been reused while the pinned process lived).
    [[nodiscard]] static Result<PinnedProcess> pin(int proc_fd, Pid pid);

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
    // Once judged, only the pidfd is needed; reads fail after this.
    void close_proc_dir() noexcept { dirfd_.reset(); }

    // A whole file below /proc/<pid>, at most `cap` bytes (more: NotManaged,
    // because an oversized fact is never trusted).
    [[nodiscard]] Result<std::string> read_file(const char* name, std::size_t cap) const;
    // readlink below /proc/<pid>; nullopt if it cannot be read.
    [[nodiscard]] std::optional<std::string> read_link(const char* name) const;

    // Socket inodes of the process's open fds.
    [[nodiscard]] Result<std::vector<std::uint64_t>> fd_socket_inodes() const;
    // Rule 2's proof: one of the process's fds is a unix socket that listens,
    // bound to the very file that banger-signal finds at `path` (lstat, in its
    // own mount namespace, with no symlink below `runtime_dir`). Asks the
    // kernel through sock_diag, in banger-signal's network namespace. Done, or
    // NotManaged with the reason; other failures are system errors or a
    // vanished process.
    [[nodiscard]] Status serves_unix_socket_at(const std::string& runtime_dir, const std::string& path) const;

    // Still alive and still the process we pinned (signal 0 via the pidfd).
    [[nodiscard]] Status verify_alive() const;
    // Sends through the pidfd: atomic with respect to pid reuse.
    [[nodiscard]] Status send(const Signal& signal) const;

private:
    PinnedProcess(Pid pid, UniqueFd pidfd, UniqueFd dirfd) noexcept
        : pid_(pid), pidfd_(std::move(pidfd)), dirfd_(std::move(dirfd)) {}
    Pid pid_;
    UniqueFd pidfd_;
    UniqueFd dirfd_;
};

}  // namespace banger
