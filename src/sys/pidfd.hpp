// Pinning a process: a pidfd holds it, so that a pid reused by another
// process can never redirect a read or a signal; every file of it is read
// relative to a directory fd on its /proc entry.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "policy/facts.hpp"
#include "policy/pid.hpp"
#include "policy/result.hpp"
#include "policy/signal_name.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

// Whether pidfd_open works here (Linux 5.3+); SystemError with the reason if not.
[[nodiscard]] Status check_pidfd_support();

class PinnedProcess {
public:
    // pidfd_open(pid) first, then /proc/<pid>; then checks that the pidfd's
    // process has not exited, which proves the directory belongs to it (the
    // pid cannot have been reused while the pinned process lived).
    [[nodiscard]] static Result<PinnedProcess> pin(int proc_fd, Pid pid);

    [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
    // The /proc/<pid> directory of the pinned process, for reads below it;
    // -1 once closed.
    [[nodiscard]] int proc_dir() const noexcept { return dirfd_.get(); }
    // Once judged, only the pidfd is needed; reads fail after this.
    void close_proc_dir() noexcept { dirfd_.reset(); }

    // A whole file below /proc/<pid>, at most `cap` bytes. A read that fails
    // because the process exited is Gone, whatever the errno was.
    [[nodiscard]] FileFact read_file(const char* name, std::size_t cap) const;
    // readlink below /proc/<pid>; nullopt if it cannot be read.
    [[nodiscard]] std::optional<std::string> read_link(const char* name) const;

    // Still alive and still the process we pinned (signal 0 via the pidfd).
    [[nodiscard]] Status verify_alive() const;
    // Sends through the pidfd: atomic with respect to pid reuse.
    [[nodiscard]] Status send(const Signal& signal) const;

private:
    PinnedProcess(UniqueFd pidfd, UniqueFd dirfd) noexcept : pidfd_(std::move(pidfd)), dirfd_(std::move(dirfd)) {}
    UniqueFd pidfd_;
    UniqueFd dirfd_;
};

// Waits until each pidfd reports its process has exited, or the deadline
// passes (one deadline for all), or `interrupt_fd` (a signalfd, or -1)
// turns readable, or the other end of `hangup_fd` (the socket door's
// connection, or -1) stops sending. exited[i] tells about pidfds[i];
// interrupted_by is the signal that ended the wait early, or 0; hung_up
// says the caller did.
struct WaitResult {
    std::vector<bool> exited;
    int interrupted_by = 0;
    bool hung_up = false;
};
[[nodiscard]] WaitResult wait_for_exits(const std::vector<int>& pidfds, std::chrono::steady_clock::time_point deadline,
                                        int interrupt_fd, int hangup_fd = -1);

}  // namespace banger
