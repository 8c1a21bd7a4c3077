// The steps that signalling and --list share, once a process is pinned:
// gather its facts, judge them, and run the socket proof the verdict asks for.
#pragma once

#include <optional>
#include <string>

#include "policy/judge.hpp"
#include "sys/pidfd.hpp"

namespace banger {

struct Judgement {
    Verdict verdict;                 // Accept or Refuse, never NeedsSocketProof
    std::optional<std::string> exe;  // the exe link, as read for the verdict
};

[[nodiscard]] Judgement judge_pinned(const PinnedProcess& pinned, const Scope& scope);

}  // namespace banger
