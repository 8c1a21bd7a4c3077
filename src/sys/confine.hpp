// What the helper may still do once it works as its own user. CAP_SYS_PTRACE
// is strong: with ptrace, process_vm_writev or a write to /proc/<pid>/mem it
// writes into any root process. The helper needs it only to read other
// users' /proc/<pid>/exe and fd/. So after the switch a seccomp filter,
// installed on every thread at once (TSYNC) and inherited by every later
// one, makes these fail with EPERM: ptrace, process_vm_readv/writev,
// pidfd_getfd, kcmp, process_madvise, perf_event_open, execve, execveat,
// io_uring (it opens files past the filter), open_by_handle_at, every open()
// that could write (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC; openat2 and creat
// altogether), whatever creates, links, renames, removes or truncates a
// file or changes its mode, owner, extended attributes or times, bind, a
// message queue's mq_open and mq_unlink (a queue is a file under
// /dev/mqueue), flock and fcntl's lock and lease commands (with
// CAP_DAC_READ_SEARCH, a lock on any file of the host), and move_pages and
// migrate_pages (another process's memory).
// The helper writes only to fds it holds already, and to sockets it
// connects. Any other system call ABI (x32, i386) ends the process. What stays possible: reading what the three capabilities
// let it read, including another process's memory through
// /proc/<pid>/mem (SECURITY.md says so).
// (Not Landlock: it also confines ptrace access, and so the reads of
// /proc/<pid>/exe the rules need.)
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <span>
#include <vector>

#include "policy/result.hpp"

namespace banger {

// LeakSanitizer checks for leaks at exit by stopping every thread with
// ptrace from a task of its own, so a build with AddressSanitizer (a test
// build, never shipped) leaves ptrace out of the filter; every other call
// stays fenced.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kPtraceFenced = false;
#else
inline constexpr bool kPtraceFenced = true;
#endif

// no_new_privs must be set (restrict_capabilities). SystemError if the
// kernel refuses the filter.
[[nodiscard]] Status confine_working_process();

// The classic BPF program it installs, as the compiler built it
// (installed_filter; a program that cannot be encoded does not compile),
// and the same built at run time (working_filter, empty if it cannot be
// encoded: the unit test checks the two are one). And the calls it refuses
// by number besides ptrace and the writing opens: for the unit test that
// runs the program over every call number.
[[nodiscard]] std::span<const sock_filter> installed_filter() noexcept;
[[nodiscard]] std::vector<sock_filter> working_filter();
[[nodiscard]] std::span<const int> denied_calls() noexcept;
// The fcntl() commands it refuses (locks and leases); every other one passes.
[[nodiscard]] std::span<const std::uint32_t> lock_commands() noexcept;
// The ioctl() requests it refuses (input pushed into a terminal); every
// other one passes.
[[nodiscard]] std::span<const std::uint32_t> terminal_input_requests() noexcept;

}  // namespace banger
