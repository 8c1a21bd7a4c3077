// What the caller asked for: the command line as given (Request), and the
// same parsed and checked (Arguments). Pure: nothing here reads the system.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/result.hpp"
#include "policy/signal_name.hpp"

namespace banger {

struct Request {
    std::vector<std::string> pid_args;
    std::optional<std::string> signal_arg;
    std::optional<std::string> config_path;
    std::optional<std::string> wait_arg;
    std::optional<std::string> kill_after_arg;
    bool dry_run = false;
    bool list = false;
    bool all = false;  // every process --list would show, instead of --pid
};

struct Arguments {
    std::vector<std::uint32_t> pids;
    Signal signal = default_signal();
    std::optional<std::chrono::milliseconds> wait;
    std::optional<std::chrono::milliseconds> kill_after;
};

// Everything the caller wrote, parsed. Usage errors first (combinations,
// pids, durations), then the signal (which has its own exit code). Every pid
// is parsed before anything is signalled: one malformed pid fails the whole
// call. `pid_max` is the kernel's (/proc/sys/kernel/pid_max).
[[nodiscard]] Result<Arguments> parse_arguments(const Request& request, std::uint32_t pid_max);

}  // namespace banger
