// The recipe: parse -> authorize the caller -> load config -> for each
// target: pin, read its facts relative to its /proc dir, judge, authorize
// this signal for this target, verify it is still the same process, signal
// -> (wait, escalate) -> report.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report.hpp"

namespace banger {

struct Request {
    std::vector<std::string> pid_args;
    std::optional<std::string> signal_arg;
    std::optional<std::string> config_path;
    std::optional<std::string> wait_arg;
    std::optional<std::string> kill_after_arg;
    bool dry_run = false;
    bool list = false;
};

// Checks what needs no privilege (pids, signal name, durations), so that a
// malformed call fails fast and never reaches a password prompt. The report
// has a call_failure when the arguments are bad.
[[nodiscard]] CallReport check_arguments(const Request& request);

// A report for a call that failed as a whole (e.g. elevation refused): one
// entry per pid given, all with that failure. `checked` is what
// check_arguments() said of the same request (it had no call_failure).
[[nodiscard]] CallReport refuse_call(CallReport checked, const Request& request, Failure failure);

// The whole privileged call: signal the targets, or with `list`, report
// every process that would be accepted.
[[nodiscard]] CallReport run(const Request& request);

}  // namespace banger
