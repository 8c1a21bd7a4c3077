#include "policy/arguments.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "policy/duration.hpp"
#include "policy/pid.hpp"

namespace banger {

namespace {

Result<std::vector<std::uint32_t>> parse_pids(const std::vector<std::string>& args, std::uint32_t pid_max, bool list,
                                              bool all) {
    if (list || all) {
        if (!args.empty()) return Failure{Outcome::UsageError, list ? "--list takes no --pid" : "--all takes no --pid"};
        return std::vector<std::uint32_t>{};
    }
    if (args.empty()) return Failure{Outcome::UsageError, "--pid (or --all) is required"};
    if (args.size() > kMaxPidsPerCall) {
        return Failure{Outcome::UsageError,
                       fmt::format("too many pids ({}; at most {} per call)", args.size(), kMaxPidsPerCall)};
    }
    std::vector<std::uint32_t> pids;
    pids.reserve(args.size());
    for (const auto& arg : args) {
        auto n = parse_pid_number(arg, pid_max);
        if (!n) return std::move(n).failure();
        pids.push_back(n.value());
    }
    std::vector<std::uint32_t> sorted = pids;
    std::sort(sorted.begin(), sorted.end());
    if (auto dup = std::adjacent_find(sorted.begin(), sorted.end()); dup != sorted.end()) {
        return Failure{Outcome::UsageError, fmt::format("pid {} is given more than once", *dup)};
    }
    return pids;
}

}  // namespace

Result<Arguments> parse_arguments(const Request& request, std::uint32_t pid_max) {
    Arguments args;
    if (request.list && (request.signal_arg || request.wait_arg || request.kill_after_arg || request.dry_run)) {
        return Failure{Outcome::UsageError,
                       "--list cannot be combined with --signal, --wait, --kill-after or --dry-run"};
    }
    if (request.list && request.all) return Failure{Outcome::UsageError, "use either --list or --all, not both"};
    if (request.wait_arg && request.kill_after_arg) {
        return Failure{Outcome::UsageError, "use either --wait or --kill-after, not both"};
    }
    auto pids = parse_pids(request.pid_args, pid_max, request.list, request.all);
    if (!pids) return std::move(pids).failure();
    args.pids = std::move(pids).value();
    if (request.wait_arg) {
        auto d = parse_duration("--wait", *request.wait_arg);
        if (!d) return std::move(d).failure();
        args.wait = d.value();
    }
    if (request.kill_after_arg) {
        auto d = parse_duration("--kill-after", *request.kill_after_arg);
        if (!d) return std::move(d).failure();
        args.kill_after = d.value();
    }
    if (request.signal_arg) {
        auto parsed = parse_signal(*request.signal_arg);
        if (!parsed) return std::move(parsed).failure();
        args.signal = parsed.value();
    }
    return args;
}

}  // namespace banger
