#include "flow.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <fmt/format.h>

#include "build_config.hpp"
#include "policy/authorization.hpp"
#include "policy/caller.hpp"
#include "policy/config.hpp"
#include "policy/doctor.hpp"
#include "policy/duration.hpp"
#include "policy/judge.hpp"
#include "policy/pid.hpp"
#include "policy/proc_stat.hpp"
#include "policy/signal_name.hpp"
#include "sys/audit.hpp"
#include "sys/config_file.hpp"
#include "sys/hardening.hpp"
#include "sys/polkit.hpp"
#include "sys/proc.hpp"
#include "sys/test_hooks.hpp"

namespace banger {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Size caps for the facts we read. Larger files are never trusted.
constexpr std::size_t kStatCap = 4096;
constexpr std::size_t kCgroupCap = std::size_t{64} * 1024;
constexpr std::size_t kCmdlineCap = std::size_t{128} * 1024;
// After an escalation to KILL, how long to wait for the process to go.
constexpr milliseconds kAfterKillWait{5000};

struct Arguments {
    std::vector<std::uint32_t> pids;
    Signal signal = default_signal();
    std::optional<milliseconds> wait;
    std::optional<milliseconds> kill_after;
};

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
    bool may_escalate;  // --kill-after: KILL must be authorized as well
};

// Each signal is on record the moment it is sent (see sent_audit_line).
void log_sent(const Context& ctx, const TargetReport& report, const Signal& signal) {
    audit(Outcome::Delivered, sent_audit_line(ctx.caller_uid, ctx.identity.caller_pid, report, signal.name()));
}

void set_failure(TargetReport& report, Failure f) {
    report.outcome = f.outcome;
    report.reason = std::move(f.reason);
}

// Steps 2-4 of the recipe: is the pinned process a banger VM? Fills the
// facts into `report`; returns false (with outcome and reason set) if not.
bool accept_target(const Context& ctx, const PinnedProcess& pinned, TargetReport& report) {
    auto refuse = [&](Failure f) {
        set_failure(report, std::move(f));
        return false;
    };
    // A read failing because the process exited is "no such process",
    // whatever the read was.
    auto read_failed = [&](Failure f) {
        if (!pinned.verify_alive()) return refuse(Failure{Outcome::NoSuchProcess, "process exited during the checks"});
        return refuse(std::move(f));
    };

    // 2. Kernel threads and zombies.
    auto stat_text = pinned.read_file("stat", kStatCap);
    if (!stat_text) return read_failed(std::move(stat_text).failure());
    auto stat = parse_proc_stat(stat_text.value());
    if (!stat) return refuse(std::move(stat).failure());
    if (auto f = refuse_by_stat(stat.value())) return refuse(std::move(*f));
    report.start_time = stat.value().start_time;

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
        return true;
    }

    // 4. Rule 2: a Firecracker that serves its api socket in the runtime dir.
    auto not_managed = [&](std::string_view why) {
        return refuse(Failure{Outcome::NotManaged, fmt::format("{}; no api-sock match: {}", by_cgroup.reason, why)});
    };
    auto cmdline = pinned.read_file("cmdline", kCmdlineCap);
    if (!cmdline && cmdline.failure().outcome != Outcome::NotManaged) return read_failed(std::move(cmdline).failure());
    if (!cmdline) return not_managed(cmdline.failure().reason);
    auto claim = judge_api_sock_claim(report.exe, cmdline.value(), ctx.config.runtime_dir);
    if (!claim) return not_managed(claim.failure().reason);
    report.api_sock = claim.value();

    auto served = pinned.serves_unix_socket_at(ctx.config.runtime_dir, claim.value());
    if (!served && served.failure().outcome != Outcome::NotManaged) return read_failed(std::move(served).failure());
    if (!served) return not_managed(served.failure().reason);
    report.match = Match::ApiSock;
    return true;
}

// Steps 1-4 for one target: protected pids, pin, judge. Returns the pinned
// process if it is a banger VM (outcome not yet set), else nullopt with the
// refusal in `report`.
std::optional<PinnedProcess> pin_and_judge(const Context& ctx, TargetReport& report) {
    if (auto f = refuse_protected_pid(report.pid, ctx.identity)) {
        set_failure(report, std::move(*f));
        return std::nullopt;
    }
    auto pid = Pid::from(report.pid);
    if (!pid) {
        set_failure(report, Failure{Outcome::Protected, "not a valid target pid"});
        return std::nullopt;
    }
    // 1. Pin: from here on the process cannot be swapped for another one.
    auto pinned_or = PinnedProcess::pin(ctx.proc_fd, *pid);
    if (!pinned_or) {
        set_failure(report, std::move(pinned_or).failure());
        return std::nullopt;
    }
    PinnedProcess pinned = std::move(pinned_or).value();
    test_pause("pinned");
    if (!accept_target(ctx, pinned, report)) return std::nullopt;
    // Only the pidfd is needed from here on: one fd per target, not two.
    pinned.close_proc_dir();
    return pinned;
}

// Step 5: polkit, for this signal (and KILL, when --kill-after may send it)
// and each accepted target, asked all at once.
void authorize_targets(const Context& ctx, std::vector<TargetReport*>& reports,
                       std::vector<std::optional<PinnedProcess>>& pinned) {
    std::vector<Signal> signals{ctx.signal};
    if (ctx.may_escalate && !ctx.signal.is_kill()) signals.push_back(parse_signal("KILL").value());
    std::vector<PolkitQuery> queries;
    std::vector<std::size_t> owner;  // queries[k] is about reports[owner[k]]
    for (std::size_t i = 0; i < reports.size(); ++i) {
        if (!pinned[i]) continue;
        if (!ctx.polkit_required) {
            reports[i]->polkit = "not-needed";
            continue;
        }
        for (const Signal& signal : signals) {
            queries.push_back(PolkitQuery{ctx.identity.caller_pid, ctx.caller_uid, std::string(polkit_action_for(signal)),
                                          polkit_details(static_cast<int>(reports[i]->pid), signal, reports[i]->match,
                                                         reports[i]->cgroup, reports[i]->exe.value_or(""))});
            owner.push_back(i);
        }
    }
    if (queries.empty()) return;
    std::vector<Status> answers = check_polkit_all(queries);
    for (std::size_t k = 0; k < queries.size(); ++k) {
        TargetReport& report = *reports[owner[k]];
        if (report.polkit == "no") continue;  // already denied for another signal
        if (answers[k]) {
            report.polkit = "yes";
        } else {
            report.polkit = "no";
            set_failure(report, std::move(answers[k]).failure());
            pinned[owner[k]].reset();
        }
    }
}

// Steps 6-7: still the process we judged? Then signal it through the pidfd.
bool deliver(const Context& ctx, const PinnedProcess& pinned, TargetReport& report) {
    test_pause("judged");
    // The pidfd makes the send atomic; this turns a process that exited
    // during the checks into a clear answer.
    if (auto alive = pinned.verify_alive(); !alive) {
        set_failure(report, std::move(alive).failure());
        return false;
    }
    if (!ctx.dry_run) {
        if (auto sent = pinned.send(ctx.signal); !sent) {
            set_failure(report, std::move(sent).failure());
            return false;
        }
        log_sent(ctx, report, ctx.signal);
    }
    report.outcome = Outcome::Delivered;
    report.reason = fmt::format("{} {} (match: {})", ctx.dry_run ? "would deliver" : "delivered", ctx.signal.name(),
                                match_name(report.match));
    return true;
}

// Targets are handled in chunks: judge all, authorize all at once, deliver
// all. Bounds the fds held at once while keeping polkit's round trips few.
constexpr std::size_t kChunk = 256;

void signal_targets(const Context& ctx, std::vector<TargetReport>& targets,
                    std::vector<std::pair<TargetReport*, PinnedProcess>>& delivered) {
    for (std::size_t start = 0; start < targets.size(); start += kChunk) {
        const std::size_t end = std::min(targets.size(), start + kChunk);
        std::vector<TargetReport*> reports;
        std::vector<std::optional<PinnedProcess>> pinned;
        for (std::size_t i = start; i < end; ++i) {
            reports.push_back(&targets[i]);
            pinned.push_back(pin_and_judge(ctx, targets[i]));
        }
        authorize_targets(ctx, reports, pinned);
        for (std::size_t i = 0; i < reports.size(); ++i) {
            if (pinned[i] && deliver(ctx, *pinned[i], *reports[i])) delivered.emplace_back(reports[i], std::move(*pinned[i]));
        }
    }
}

// --wait and --kill-after, for all delivered targets at once: one deadline.
void wait_and_escalate(const Context& ctx, const Arguments& args,
                       std::vector<std::pair<TargetReport*, PinnedProcess>>& delivered) {
    const bool escalate = args.kill_after.has_value();
    const milliseconds limit = escalate ? *args.kill_after : *args.wait;
    // INT, TERM, HUP or QUIT (an admin's ^C) ends the wait early, without
    // escalating; the call still reports and logs what it did.
    const UniqueFd interrupt(open_interrupt_fd());
    std::vector<int> pidfds;
    pidfds.reserve(delivered.size());
    for (auto& [report, pinned] : delivered) pidfds.push_back(pinned.pidfd());
    WaitResult waited = wait_for_exits(pidfds, steady_clock::now() + limit, interrupt.get());
    int interrupted_by = waited.interrupted_by;

    std::vector<std::size_t> still;  // indexes into delivered
    for (std::size_t i = 0; i < delivered.size(); ++i) {
        if (!waited.exited[i]) still.push_back(i);
    }
    if (escalate && !still.empty() && interrupted_by == 0) {
        const Signal kill = parse_signal("KILL").value();
        std::vector<int> killed_fds;
        std::vector<std::size_t> killed;
        for (std::size_t i : still) {
            auto& [report, pinned] = delivered[i];
            if (auto sent = pinned.send(kill); sent) {
                log_sent(ctx, *report, kill);
                report->escalated = true;
                killed.push_back(i);
                killed_fds.push_back(pinned.pidfd());
            } else if (sent.failure().outcome != Outcome::NoSuchProcess) {
                set_failure(*report, std::move(sent).failure());
            }
            // NoSuchProcess: it exited just before the KILL; that is success.
        }
        WaitResult gone = wait_for_exits(killed_fds, steady_clock::now() + kAfterKillWait, interrupt.get());
        interrupted_by = gone.interrupted_by;
        still.clear();
        for (std::size_t k = 0; k < killed.size(); ++k) {
            if (!gone.exited[k]) still.push_back(killed[k]);
        }
    }
    for (std::size_t i : still) {
        TargetReport& report = *delivered[i].first;
        std::string why;
        if (interrupted_by != 0) {
            const char* name = ::sigabbrev_np(interrupted_by);
            why = fmt::format("still running when SIG{} ended the wait{}", name != nullptr ? name : "?",
                              report.escalated ? " (after KILL)" : "");
        } else if (escalate) {
            why = fmt::format("still running after KILL (sent after {} ms)", limit.count());
        } else {
            why = fmt::format("still running {} ms after {}", limit.count(), args.signal.name());
        }
        set_failure(report, Failure{Outcome::StillRunning, std::move(why)});
    }
    for (auto& [report, pinned] : delivered) {
        if (report->outcome != Outcome::Delivered) continue;
        report->reason += report->escalated ? "; escalated to KILL, then exited" : "; exited";
    }
}

// Parses every pid before anything is signalled: one malformed pid fails the
// whole call.
Result<std::vector<std::uint32_t>> parse_pids(const std::vector<std::string>& args, std::uint32_t pid_max, bool list) {
    if (list) {
        if (!args.empty()) return Failure{Outcome::UsageError, "--list takes no --pid"};
        return std::vector<std::uint32_t>{};
    }
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

// Everything the caller wrote, parsed. Usage errors first, then the signal
// (which has its own exit code).
Result<Arguments> parse_arguments(const Request& request, std::uint32_t pid_max) {
    Arguments args;
    if (request.list && (request.signal_arg || request.wait_arg || request.kill_after_arg || request.dry_run)) {
        return Failure{Outcome::UsageError, "--list cannot be combined with --signal, --wait, --kill-after or --dry-run"};
    }
    if (request.wait_arg && request.kill_after_arg) {
        return Failure{Outcome::UsageError, "use either --wait or --kill-after, not both"};
    }
    auto pids = parse_pids(request.pid_args, pid_max, request.list);
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

// A failure of the whole call. Signal refusals and later failures are
// reported per pid too (JSON readers get one line per target).
CallReport fail_call(CallReport report, Failure f, const std::vector<std::string>& pid_args, std::uint32_t pid_max) {
    if (f.outcome != Outcome::UsageError) {
        for (const auto& arg : pid_args) {
            auto pid = parse_pid_number(arg, pid_max);
            TargetReport t;
            t.pid = pid ? pid.value() : 0;
            t.outcome = f.outcome;
            t.reason = f.reason;
            report.targets.push_back(std::move(t));
        }
    }
    report.call_failure = std::move(f);
    return report;
}

// Arguments that do not parse: a refused signal is reported as the caller
// wrote it, cut to a printable excerpt.
CallReport fail_arguments(CallReport report, const Request& request, Failure f, std::uint32_t pid_max) {
    if (request.signal_arg) report.signal_name = excerpt(*request.signal_arg);
    return fail_call(std::move(report), std::move(f), request.pid_args, pid_max);
}

// --list: one pass over /proc, the same acceptance as signalling, read-only.
// Which processes can possibly be accepted, cheaply: those in the service
// cgroup's subtree (its cgroup.procs files) and those whose exe is named
// firecracker. Only these are pinned and judged in full, so a busy host costs
// one readlink per process. Without a cgroup mount to walk: every process.
std::vector<std::uint32_t> list_candidates(const Context& ctx, const std::vector<std::uint32_t>& all) {
    CgroupMounts mounts = detect_cgroup_mounts(read_proc_file(ctx.proc_fd, "self/mountinfo", std::size_t{4} << 20).value_or(""));
    std::vector<std::uint32_t> candidates = pids_with_exe_name(ctx.proc_fd, all, "firecracker");
    bool walked = false;
    for (const std::string& mount : {mounts.unified, mounts.named_systemd}) {
        if (mount.empty()) continue;
        auto in_cgroup = cgroup_tree_pids(mount + ctx.config.service_cgroup);
        if (!in_cgroup) continue;
        walked = true;
        candidates.insert(candidates.end(), in_cgroup->begin(), in_cgroup->end());
    }
    if (!walked && mounts.layout == CgroupLayout::None) return all;
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    return candidates;
}

void list_accepted(const Context& ctx, CallReport& report) {
    auto pids = list_pids(ctx.proc_fd);
    if (!pids) {
        report.call_failure = std::move(pids).failure();
        return;
    }
    for (std::uint32_t number : list_candidates(ctx, pids.value())) {
        if (refuse_protected_pid(number, ctx.identity)) continue;
        auto pid = Pid::from(number);
        if (!pid) continue;
        auto pinned = PinnedProcess::pin(ctx.proc_fd, *pid);
        if (!pinned) continue;  // vanished mid-scan: skipped, not an error
        TargetReport target;
        target.pid = number;
        if (!accept_target(ctx, pinned.value(), target)) continue;
        if (!pinned.value().verify_alive()) continue;
        target.outcome = Outcome::Delivered;
        target.reason = fmt::format("accepted (match: {})", match_name(target.match));
        report.targets.push_back(std::move(target));
    }
}

}  // namespace

CallReport check_arguments(const Request& request) {
    CallReport report;
    report.dry_run = request.dry_run;
    report.list = request.list;
    auto proc = open_proc_root();
    const std::uint32_t pid_max = proc ? read_pid_max(proc.value().get()) : kPidMaxLimit;
    auto args = parse_arguments(request, pid_max);
    if (!args) return fail_arguments(std::move(report), request, std::move(args).failure(), pid_max);
    report.signal_name = std::string(args.value().signal.name());
    return report;
}

CallReport refuse_call(CallReport checked, const Request& request, Failure failure) {
    checked.targets.clear();
    checked.call_failure.reset();
    checked.caller_uid = ::getuid();
    checked.caller_pid = ::getppid();
    return fail_call(std::move(checked), std::move(failure), request.pid_args, kPidMaxLimit);
}

CallReport run(const Request& request) {
    CallReport report;
    report.dry_run = request.dry_run;
    report.list = request.list;

    const char* pkexec_uid = std::getenv("PKEXEC_UID");
    const Caller caller{::getuid(), ::geteuid(), ::getppid(),
                        pkexec_uid != nullptr ? std::optional<std::string_view>(pkexec_uid) : std::nullopt};
    report.caller_pid = caller.pid;
    auto uid = accountable_uid(caller);
    report.caller_uid = uid ? uid.value() : caller.real_uid;

    auto proc = open_proc_root();
    if (!proc) return fail_call(std::move(report), std::move(proc).failure(), {}, kPidMaxLimit);
    const int proc_fd = proc.value().get();
    const std::uint32_t pid_max = read_pid_max(proc_fd);

    auto parsed = parse_arguments(request, pid_max);
    if (!parsed) return fail_arguments(std::move(report), request, std::move(parsed).failure(), pid_max);
    const Arguments args = std::move(parsed).value();
    report.signal_name = std::string(args.signal.name());

    if (auto allowed = authorize_caller(caller, request.config_path.has_value()); !allowed) {
        return fail_call(std::move(report), std::move(allowed).failure(), request.pid_args, pid_max);
    }
    // A binary that someone else could have replaced must not act as root.
    if (auto where = unsafe_own_location()) {
        return fail_call(std::move(report), Failure{Outcome::NotAuthorized, "refusing to run privileged: " + *where},
                         request.pid_args, pid_max);
    }
    auto config = request.config_path ? load_config_file(*request.config_path, true)
                                      : load_config_file(BANGER_CONFIG_PATH, false);
    if (!config) return fail_call(std::move(report), std::move(config).failure(), request.pid_args, pid_max);

    const Context ctx{proc_fd,
                      Identity{::getpid(), caller.pid},
                      std::move(config).value(),
                      args.signal,
                      request.dry_run,
                      same_cgroup_namespace_as_init(proc_fd),
                      caller.via_pkexec(),
                      report.caller_uid,
                      args.kill_after.has_value()};

    if (request.list) {
        list_accepted(ctx, report);
        return report;
    }

    report.targets.resize(args.pids.size());
    for (std::size_t i = 0; i < args.pids.size(); ++i) report.targets[i].pid = args.pids[i];
    std::vector<std::pair<TargetReport*, PinnedProcess>> delivered;
    signal_targets(ctx, report.targets, delivered);
    if ((args.wait || args.kill_after) && !request.dry_run && !delivered.empty()) wait_and_escalate(ctx, args, delivered);
    return report;
}

}  // namespace banger
