// The recipe: parse -> authorize -> load config -> for each target: pin,
// read its facts relative to its /proc dir, judge, verify it is still the
// same process, signal -> report.
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
    bool dry_run = false;
};

// Checks what needs no privilege (pids, signal name), so that a malformed
// call fails fast and never reaches a password prompt. The report has a
// call_failure when the arguments are bad.
[[nodiscard]] CallReport check_arguments(const Request& request);

// The whole privileged call.
[[nodiscard]] CallReport run(const Request& request);

}  // namespace banger
