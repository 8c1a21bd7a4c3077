// A clean start and least privilege: the caller controls everything we
// inherit (fds, signal dispositions, mask, umask, cwd), so none of it is kept.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>

#include "policy/result.hpp"

namespace banger {

// First thing in main, before anything is opened: fds 0-2 exist (on
// /dev/null if the caller closed them, so nothing we open can become our
// stdout), every other inherited fd is closed (but for fd 3 when
// `keep_connection`: the socket door's connection, which systemd passed),
// signal dispositions and the mask are reset, interval timers (which
// survive exec, even a setuid one) are disarmed, umask is 077 and the cwd
// is "/". Returns false if the process cannot be made safe (then the caller
// exits with a system error).
[[nodiscard]] bool sanitize_process_start(bool keep_connection) noexcept;

// Once the process knows it runs privileged, before any thread exists (GLib
// starts some): every signal that is not a fault of our own is held blocked
// until exit. The caller may own our terminal (INT, QUIT, HUP, TSTP) or have
// armed a limit (XCPU, XFSZ) to kill us between a signal sent and its audit
// line. A wait for exits still ends early on INT, TERM, HUP or QUIT
// (interrupt_fd). The limits whose hard limit is a SIGKILL the caller can
// time (RLIMIT_CPU, RLIMIT_RTTIME) are normalize_limits()'s.
[[nodiscard]] bool hold_async_signals() noexcept;

// A real-time policy (and so RLIMIT_RTTIME, sys/limits.hpp) survives exec:
// returns to the ordinary policy, where that limit does not apply. False if
// the process still runs under a real-time policy.
[[nodiscard]] bool leave_real_time() noexcept;

// The caller's oom_score_adj (up to 1000: the OOM killer would pick the
// helper first) and nice value survive exec, pkexec's too: both back to 0,
// which takes root's CAP_SYS_RESOURCE and CAP_SYS_NICE (so before the
// capabilities go). False if either stays.
[[nodiscard]] bool reset_caller_priorities() noexcept;

// Empties the environment.
void forget_environment() noexcept;

// A signalfd that turns readable when INT, TERM, HUP or QUIT arrives (they
// are held by hold_async_signals), or -1.
[[nodiscard]] int open_interrupt_fd() noexcept;

// Why the running binary could have been replaced by someone other than
// root (see policy/location.hpp), or nullopt if it could not.
[[nodiscard]] std::optional<std::string> unsafe_own_location();

// The same for a file already opened and fstat()ed as `file`, whose path
// has no symlink left in it: the file and every directory above it.
[[nodiscard]] std::optional<std::string> unsafe_file_location(const std::string& canonical_path,
                                                              const struct stat& file);

}  // namespace banger
