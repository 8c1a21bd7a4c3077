// Self-elevation: an unprivileged banger-signal re-runs the installed binary
// through pkexec, so polkit decides per call. No setuid bit anywhere.
#pragma once

#include <optional>

#include "policy/elevation.hpp"
#include "policy/result.hpp"

namespace banger {

struct Elevation {
    std::optional<int> exit_code;          // the privileged run's exit code, if it ran
    Failure failure{};                     // else why not
    std::optional<PkexecRefusal> refusal;  // pkexec's own refusal (126, 127)
};

// Runs "/usr/bin/pkexec --disable-internal-agent <installed path> argv[1..]"
// as a child and waits. It gets a minimal environment of its own (pkexec
// aborts on a SHELL outside /etc/shells or a LANG with a '/', and a daemon's
// real environment has such things) and a soft RLIMIT_NOFILE of at most
// 1024 (pkexec visits every fd number up to it). Its stderr passes through a
// pipe, so that a refusal can be told by pkexec's own words; everything is
// relayed to ours. Refuses (7) to elevate anything but the installed
// binary: a build-tree copy is not what polkit's policy names.
[[nodiscard]] Elevation elevate_through_pkexec(int argc, char** argv);

}  // namespace banger
