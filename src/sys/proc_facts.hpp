// Gathers the facts judge_target() needs about a pinned process.
#pragma once

#include <sys/types.h>

#include "policy/facts.hpp"
#include "sys/pidfd.hpp"

namespace banger {

// stat, the exe link and cgroup, each read whole below the pinned
// /proc/<pid> directory and capped (policy/facts.hpp); the cmdline is left
// NotRead. Never fails: what could not be read is a fact too.
[[nodiscard]] TargetFacts gather_facts(const PinnedProcess& pinned);

// /proc/<pid>/cmdline, capped: when the judge asks for it.
[[nodiscard]] FileFact read_command_line(const PinnedProcess& pinned);

// Whether every uid of the process (real, effective, saved) is `uid`: what
// the caller could read of it itself. False when unknown.
[[nodiscard]] bool owned_by(const PinnedProcess& pinned, uid_t uid);

}  // namespace banger
