// Resource limits are the caller's to set, and they survive exec, even
// pkexec's: a tight one can crash the root helper (GLib aborts when it
// cannot create its pipes or its threads) and a core file would then be
// root's. So no core, ever, and every limit the helper depends on is
// normalised before anything can run out of it.
#pragma once

#include <cstddef>

#include "policy/result.hpp"

namespace banger {

// First thing in main: RLIMIT_CORE 0 and not dumpable, before anything can
// fault. Returns false if either cannot be set.
[[nodiscard]] bool forbid_core_dumps() noexcept;

// Before GLib is loaded and before any thread exists: lift CPU and RTTIME
// where root may (their hard limits are a SIGKILL the caller can time), and
// raise NOFILE, AS, DATA, STACK and NPROC to what a call with `targets`
// targets needs (soft to hard, and with CAP_SYS_RESOURCE, the hard limit
// too), and make that stack size the default for threads (glibc took its
// default from the caller's RLIMIT_STACK at start). A limit that cannot be made large enough is a
// SystemError naming it: a clear refusal instead of a crash.
[[nodiscard]] Status normalize_limits(std::size_t targets);

}  // namespace banger
