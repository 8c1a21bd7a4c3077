// Self-elevation: an unprivileged banger-signal re-runs the installed binary
// through pkexec, so polkit decides per call. No setuid bit anywhere.
#pragma once

#include <optional>

#include "policy/result.hpp"

namespace banger {

struct Elevation {
    std::optional<int> exit_code;    // the privileged run's exit code, if it ran
    Failure failure{};               // else why not
    std::optional<int> pkexec_exit;  // pkexec refused: its own status (126, 127)
};

// Runs "/usr/bin/pkexec <installed path> argv[1..]" as a child, waits, and
// returns the privileged run's exit code. pkexec's own failures (126, 127)
// are a NotAuthorized failure, with pkexec's status. Refuses (7) to elevate
// anything but the installed binary: a build-tree copy, or a copy
// elsewhere, is not what polkit's policy names.
[[nodiscard]] Elevation elevate_through_pkexec(int argc, char** argv);

}  // namespace banger
