// The process that called banger-signal, held from the start. pkexec execs
// the helper in place, so the caller is our parent; holding it with a pidfd
// and its start time means polkit is asked about that very process, never
// about one that inherited its pid after it exited.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "policy/result.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

class PinnedCaller {
public:
    // Pins getppid() and reads its start time, then checks it is still our
    // parent (so both are its own). A parent that is PID 1 means the caller
    // exited before we started (NotAuthorized). (One that exits before that
    // and leaves a subreaper of its own behind cannot be told from a caller.)
    [[nodiscard]] static Result<PinnedCaller> pin(int proc_fd);

    [[nodiscard]] int pid() const noexcept { return pid_; }
    [[nodiscard]] std::uint64_t start_time() const noexcept { return start_time_; }

    // Done while it is alive and still our parent; NotAuthorized once it
    // exited (we are reparented the moment it does).
    [[nodiscard]] Status still_our_parent() const;

private:
    PinnedCaller(int pid, UniqueFd pidfd, std::uint64_t start_time) noexcept
        : pid_(pid), pidfd_(std::move(pidfd)), start_time_(start_time) {}
    int pid_;
    UniqueFd pidfd_;
    std::uint64_t start_time_;
};

}  // namespace banger
