// The process that called banger-signal, held from the start: polkit is
// asked about that very process, never about one that inherited its pid
// after it exited. Through pkexec the caller is our parent (pkexec execs
// the helper in place); through the socket door it is the peer the kernel
// names for the connection.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "policy/result.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

class PinnedCaller {
public:
    // pkexec's caller. Pins getppid() and reads its start time, then checks
    // it is still our parent (so both are its own). A parent that is PID 1
    // means the caller exited before we started (NotAuthorized). (One that
    // exits before that and leaves a subreaper of its own behind cannot be
    // told from a caller.)
    [[nodiscard]] static Result<PinnedCaller> parent(int proc_fd);

    // The socket door's caller: the process at the other end of
    // `connection`, as the kernel names it (SO_PEERCRED: its pid and uid at
    // connect()). Pinned by the pidfd the kernel hands out for it
    // (SO_PEERPIDFD, Linux 6.5+), or else by pidfd_open() of that pid; a pid
    // may have been reused in between, so the process pinned that way must
    // hold the other end of this very connection among its fds. Its start
    // time is read while it is pinned. NotAuthorized when it exited, or
    // cannot be seen or proved. `kernel_pidfd` false skips SO_PEERPIDFD (to
    // test the other way on a kernel that has it).
    [[nodiscard]] static Result<PinnedCaller> peer(int proc_fd, int connection, bool kernel_pidfd);

    [[nodiscard]] int pid() const noexcept { return pid_; }
    [[nodiscard]] std::uint64_t start_time() const noexcept { return start_time_; }
    [[nodiscard]] int pidfd() const noexcept { return pidfd_.get(); }
    // The peer's uid at connect() (SO_PEERCRED); the real uid for a parent.
    [[nodiscard]] uid_t uid() const noexcept { return uid_; }
    // How the peer was pinned: by the kernel's own pidfd for it.
    [[nodiscard]] bool pinned_by_kernel() const noexcept { return by_kernel_; }

    // Done while it is alive (and, pkexec's caller, still our parent: we
    // are reparented the moment it exits); NotAuthorized once it exited.
    [[nodiscard]] Status still_there() const;

private:
    PinnedCaller(bool parent, int pid, UniqueFd pidfd, std::uint64_t start_time, uid_t uid, bool by_kernel) noexcept
        : parent_(parent),
          pid_(pid),
          pidfd_(std::move(pidfd)),
          start_time_(start_time),
          uid_(uid),
          by_kernel_(by_kernel) {}
    bool parent_;
    int pid_;
    UniqueFd pidfd_;
    std::uint64_t start_time_;
    uid_t uid_;
    bool by_kernel_;
};

}  // namespace banger
