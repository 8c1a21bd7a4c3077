// Self-elevation: an unprivileged banger-signal re-runs the installed binary
// through pkexec, so polkit decides per call. No setuid bit anywhere.
#pragma once

#include <string>

#include "policy/result.hpp"

namespace banger {

// Runs "/usr/bin/pkexec <installed path> argv[1..]" as a child, waits, and
// returns its exit code, with pkexec's own failures (126, 127) mapped to 7.
// Refuses (7) to elevate anything but the installed binary: a build-tree
// copy, or a copy elsewhere, is not what polkit's policy names.
// `audit_summary` ("pids=... signal=...") goes into the audit line written
// when pkexec refuses, since the privileged run then never logs anything.
// Returns the privileged run's exit code, or a Failure when it never ran
// (not installed, pkexec refused or failed) for the caller to report.
[[nodiscard]] Result<int> elevate_through_pkexec(int argc, char** argv, const std::string& audit_summary);

}  // namespace banger
