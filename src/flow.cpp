#include "flow.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "build_config.hpp"
#include "policy/authorization.hpp"
#include "policy/caller.hpp"
#include "policy/config.hpp"
#include "policy/judge.hpp"
#include "policy/pid.hpp"
#include "policy/proc_stat.hpp"
#include "policy/signal_name.hpp"
#include "sys/config_file.hpp"
#include "sys/polkit.hpp"
#include "sys/proc.hpp"

namespace banger {

namespace {

// Size caps for the facts we read. Larger files are never trusted.
constexpr std::size_t kStatCap = 4096;
constexpr std::size_t kCgroupCap = 64 * 1024;
constexpr std::size_t kCmdlineCap = 128 * 1024;

struct Context {
    int proc_fd;
    Identity identity;
    Config config;
    Signal signal;
    bool dry_run;
    bool same_cgroup_ns;
    // Through pkexec the call stands for an unprivileged user: polkit must
    // agree to this signal for this target. A real root caller needs no one's
    // permission.
    bool polkit_required;
    uid_t caller_uid;
};

// Fills `report` with the fate of one target. Each step either refuses
// (return) or hands the next step a stronger fact.
void handle_target(const Context& ctx, std::uint32_t number, TargetReport& report) {
    auto refuse = [&](Failure f) {
        report.outcome = f.outcome;
        report.reason = std::move(f.reason);
    };

    if (auto f = refuse_protected_pid(number, ctx.identity)) return refuse(std::move(*f));
    auto pid = Pid::from(number);
    if (!pid) return refuse(Failure{Outcome::Protected, "not a valid target pid"});

    // 1. Pin: from here on the process cannot be swapped for another one.
    auto pinned_or = PinnedProcess::pin(ctx.proc_fd, *pid);
    if (!pinned_or) return refuse(std::move(pinned_or).failure());
    const PinnedProcess pinned = std::move(pinned_or).value();

    // A read failing because the process exited is "no such process",
    // whatever the read was.
    auto read_failed = [&](Failure f) {
        if (!pinned.verify_alive()) return refuse(Failure{Outcome::NoSuchProcess, "process exited during the checks"});
        refuse(std::move(f));
    };

    // 2. Kernel threads and zombies.
    auto stat_text = pinned.read_file("stat", kStatCap);
    if (!stat_text) return read_failed(std::move(stat_text).failure());
    auto stat = parse_proc_stat(stat_text.value());
    if (!stat) return refuse(std::move(stat).failure());
    if (auto f = refuse_by_stat(stat.value())) return refuse(std::move(*f));

    report.exe = pinned.read_link("exe");

    // 3. Rule 1: the service cgroup.
    auto cgroup_file = pinned.read_file("cgroup", kCgroupCap);
    if (!cgroup_file && cgroup_file.failure().outcome != Outcome::NotManaged) {
        return read_failed(std::move(cgroup_file).failure());
    }
    CgroupVerdict by_cgroup = cgroup_file ? judge_cgroup(cgroup_file.value(), ctx.config.service_cgroup, ctx.same_cgroup_ns)
                                          : CgroupVerdict{false, "", cgroup_file.failure().reason};
    report.cgroup = by_cgroup.path;

    if (by_cgroup.accepted) {
        report.match = Match::Cgroup;
    } else {
        // 4. Rule 2: a Firecracker that serves its api socket in the runtime dir.
        auto not_managed = [&](std::string_view why) {
            refuse(Failure{Outcome::NotManaged, fmt::format("{}; no api-sock match: {}", by_cgroup.reason, why)});
        };
        auto cmdline = pinned.read_file("cmdline", kCmdlineCap);
        if (!cmdline && cmdline.failure().outcome != Outcome::NotManaged) return read_failed(std::move(cmdline).failure());
        if (!cmdline) return not_managed(cmdline.failure().reason);
        auto claim = judge_api_sock_claim(report.exe, cmdline.value(), ctx.config.runtime_dir);
        if (!claim) return not_managed(claim.failure().reason);
        report.api_sock = claim.value();

        auto listening = pinned.listening_sockets_at(claim.value());
        if (!listening && listening.failure().outcome != Outcome::NotManaged) return read_failed(std::move(listening).failure());
        if (!listening) return not_managed(listening.failure().reason);
        auto fds = pinned.fd_socket_inodes();
        if (!fds) return read_failed(std::move(fds).failure());
        if (!holds_listening_socket(listening.value(), fds.value())) {
            return not_managed(fmt::format("it does not hold a listening socket at {}", claim.value()));
        }
        report.match = Match::ApiSock;
    }

    // 5. Authorize this signal for this target, now that we know what it is.
    if (ctx.polkit_required) {
        auto allowed = check_polkit(PolkitQuery{
            ctx.identity.caller_pid, ctx.caller_uid, std::string(polkit_action_for(ctx.signal)),
            polkit_details(pid->get(), ctx.signal, report.match, report.cgroup, report.exe.value_or(""))});
        report.polkit = allowed ? "yes" : "no";
        if (!allowed) return refuse(std::move(allowed).failure());
    } else {
        report.polkit = "not-needed";
    }

    // 6. Still the process we judged? (The pidfd makes the send atomic; this
    //    turns a process that exited during the checks into a clear answer.)
    if (auto alive = pinned.verify_alive(); !alive) return refuse(std::move(alive).failure());

    if (!ctx.dry_run) {
        if (auto sent = pinned.send(ctx.signal); !sent) return refuse(std::move(sent).failure());
    }
    report.outcome = Outcome::Delivered;
    report.reason = fmt::format("{} {} (match: {})", ctx.dry_run ? "would deliver" : "delivered", ctx.signal.name(),
                                match_name(report.match));
}

// Parses every pid before anything is signalled: one malformed pid fails the
// whole call.
Result<std::vector<std::uint32_t>> parse_pids(const std::vector<std::string>& args, std::uint32_t pid_max) {
    if (args.empty()) return Failure{Outcome::UsageError, "--pid is required"};
    if (args.size() > kMaxPidsPerCall) {
        return Failure{Outcome::UsageError, fmt::format("too many pids ({}; at most {} per call)", args.size(), kMaxPidsPerCall)};
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

CallReport check_arguments(const Request& request) {
    CallReport report;
    report.dry_run = request.dry_run;
    auto proc = open_proc_root();
    std::uint32_t pid_max = proc ? read_pid_max(proc.value().get()) : kPidMaxLimit;
    auto pids = parse_pids(request.pid_args, pid_max);
    if (!pids) {
        report.call_failure = std::move(pids).failure();
        return report;
    }
    if (request.signal_arg) {
        auto parsed = parse_signal(*request.signal_arg);
        if (!parsed) {
            report.call_failure = std::move(parsed).failure();
            for (std::uint32_t pid : pids.value()) {
                report.targets.push_back(TargetReport{pid, Outcome::SignalRefused, Match::None, report.call_failure->reason, "", {}, {}, ""});
            }
        } else {
            report.signal_name = std::string(parsed.value().name());
        }
    }
    return report;
}

CallReport run(const Request& request) {
    CallReport report;
    report.dry_run = request.dry_run;

    const char* pkexec_uid = std::getenv("PKEXEC_UID");
    Caller caller{::getuid(), ::geteuid(), ::getppid(),
                  pkexec_uid ? std::optional<std::string_view>(pkexec_uid) : std::nullopt};
    report.caller_pid = caller.pid;
    report.caller_uid = accountable_uid(caller).ok() ? accountable_uid(caller).value() : caller.real_uid;

    auto fail_call = [&](Failure f, const std::vector<std::uint32_t>& pids) {
        for (std::uint32_t pid : pids) report.targets.push_back(TargetReport{pid, f.outcome, Match::None, f.reason, "", {}, {}, ""});
        report.call_failure = std::move(f);
        return report;
    };

    auto proc = open_proc_root();
    if (!proc) return fail_call(std::move(proc).failure(), {});
    const int proc_fd = proc.value().get();

    auto pids = parse_pids(request.pid_args, read_pid_max(proc_fd));
    if (!pids) return fail_call(std::move(pids).failure(), {});

    Signal signal = default_signal();
    if (request.signal_arg) {
        auto parsed = parse_signal(*request.signal_arg);
        if (!parsed) return fail_call(std::move(parsed).failure(), pids.value());
        signal = parsed.value();
    }
    report.signal_name = std::string(signal.name());

    if (auto allowed = authorize_caller(caller, request.config_path.has_value()); !allowed) {
        return fail_call(std::move(allowed).failure(), pids.value());
    }

    auto config = request.config_path ? load_config_file(*request.config_path, true)
                                      : load_config_file(BANGER_CONFIG_PATH, false);
    if (!config) return fail_call(std::move(config).failure(), pids.value());

    const Context ctx{proc_fd, Identity{::getpid(), caller.pid}, std::move(config).value(), signal, request.dry_run,
                      same_cgroup_namespace_as_init(proc_fd), caller.via_pkexec(), report.caller_uid};
    for (std::uint32_t pid : pids.value()) {
        TargetReport target;
        target.pid = pid;
        handle_target(ctx, pid, target);
        report.targets.push_back(std::move(target));
    }
    return report;
}

}  // namespace banger
