#include "flow.hpp"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <span>

#include "build_config.hpp"
#include "candidate.hpp"
#include "examine.hpp"
#include "list.hpp"
#include "policy/authorization.hpp"
#include "policy/config.hpp"
#include "policy/pid.hpp"
#include "sys/audit.hpp"
#include "sys/config_file.hpp"
#include "sys/confine.hpp"
#include "sys/hardening.hpp"
#include "sys/pidfd.hpp"
#include "sys/polkit.hpp"
#include "sys/privileges.hpp"
#include "sys/proc_facts.hpp"
#include "sys/proc_root.hpp"
#include "sys/test_hooks.hpp"

namespace banger {

namespace {

PidfdSubjects pidfd_subjects() {
    return test_forces_pidfd_subjects() ? PidfdSubjects::Always : PidfdSubjects::WhereTaken;
}

// Protected pids, pin, facts, judgement, and not the service's own process.
// Leaves the candidate pinned if it is a banger VM, else refused.
void judge(const Context& ctx, ServiceProcessGuard& service, Candidate& c) {
    TargetReport& report = c.report;
    if (auto f = refuse_protected_pid(report.pid, ctx.identity)) return c.refuse(std::move(*f));
    auto pid = Pid::from(report.pid);
    if (!pid) return c.refuse(Failure{Outcome::Protected, "not a valid target pid"});
    // From here on the process cannot be swapped for another one.
    auto pinned = PinnedProcess::pin(ctx.proc_fd, *pid);
    if (!pinned) return c.refuse(std::move(pinned).failure());
    test_pause("pinned");
    PinnedProcess process = std::move(pinned).value();
    Judgement judged = judge_pinned(process, ctx.scope());
    const Verdict& v = judged.verdict;
    report.exe = std::move(judged.exe);
    report.cgroup = v.cgroup;
    report.api_sock = v.api_sock;
    report.match = v.match;
    if (v.kind != Verdict::Kind::Accept) {
        report.api_sock_reason = v.api_sock_reason;
        // Someone else's process: the caller learns no more of it than it
        // could read itself (root can read everything).
        report.private_to_caller = ctx.caller_uid != 0 && !owned_by(process, ctx.caller_uid);
        return c.refuse(Failure{v.outcome, v.reason});
    }
    if (auto own = service.refusal(report.pid, v)) return c.refuse(std::move(*own));
    // Only the pidfd is needed from here on: one fd per target, not two.
    process.close_proc_dir();
    c.pin = std::move(process);
}

// polkit, for this signal (and KILL, when --kill-after may send it) and
// each accepted target of the chunk, asked all at once.
void authorize(const Context& ctx, std::span<Candidate> chunk) {
    std::vector<Candidate*> accepted;
    std::vector<AcceptedTarget> targets;
    for (Candidate& c : chunk) {
        if (!c.pin) continue;
        if (!ctx.polkit_required) {
            c.report.polkit = PolkitDecision::NotNeeded;
            continue;
        }
        const AcceptedTarget target{static_cast<int>(c.report.pid), c.report.match, c.report.cgroup,
                                    c.report.exe ? std::string_view(*c.report.exe) : std::string_view()};
        if (auto undescribable = refuse_undescribable(target)) {
            c.refuse(std::move(*undescribable));  // polkit not asked
            continue;
        }
        accepted.push_back(&c);
        targets.push_back(target);
    }
    if (accepted.empty()) return;
    // The subject is the pinned caller, checked again before each check.
    const PinnedCaller& caller = *ctx.caller;
    const auto queries = polkit_queries(targets, ctx.signal, ctx.kill_after,
                                        Subject{caller.pid(), caller.start_time(), ctx.caller_uid, caller.pidfd()});
    const auto answers = check_polkit_all(
        queries, [&caller] { return caller.still_there(); }, pidfd_subjects());
    const auto denied = fold_answers(queries, answers, accepted.size());
    for (std::size_t i = 0; i < accepted.size(); ++i) {
        accepted[i]->report.polkit = denied[i] ? PolkitDecision::No : PolkitDecision::Yes;
        if (denied[i]) accepted[i]->refuse(*denied[i]);
    }
}

// Still the process we judged? Then signal it through the pidfd.
void deliver(const Context& ctx, Candidate& c) {
    test_pause("judged");
    // The pidfd makes the send atomic; this turns a process that exited
    // during the checks into a clear answer.
    if (auto alive = c.pin->verify_alive(); !alive) return c.refuse(std::move(alive).failure());
    if (!ctx.dry_run) {
        if (auto sent = c.pin->send(ctx.signal); !sent) return c.refuse(std::move(sent).failure());
        log_sent(ctx, c.report, ctx.signal);
    }
    c.report.outcome = Outcome::Delivered;
    // Without a wait, the pidfd has done its work.
    if (!ctx.wait || ctx.dry_run) c.pin.reset();
}

std::vector<TargetReport> signal_targets(const Context& ctx, const std::vector<std::uint32_t>& pids) {
    std::vector<Candidate> candidates(pids.size());
    for (std::size_t i = 0; i < pids.size(); ++i) candidates[i].report.pid = pids[i];
    ServiceProcessGuard service(ctx.config.service_cgroup);
    // Chunk by chunk (kTargetsPerChunk): judge all, authorize all at once, deliver all.
    for (std::size_t start = 0; start < candidates.size(); start += kTargetsPerChunk) {
        const std::span chunk =
            std::span(candidates).subspan(start, std::min(kTargetsPerChunk, candidates.size() - start));
        for (Candidate& c : chunk) judge(ctx, service, c);
        authorize(ctx, chunk);
        for (Candidate& c : chunk) {
            if (c.pin) deliver(ctx, c);
        }
    }
    if (ctx.wait && !ctx.dry_run) wait_and_escalate(ctx, candidates);
    std::vector<TargetReport> reports;
    reports.reserve(candidates.size());
    for (Candidate& c : candidates) reports.push_back(std::move(c.report));
    return reports;
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

CallReport new_report(const Request& request) {
    CallReport report;
    report.dry_run = request.dry_run;
    report.list = request.list;
    return report;
}

}  // namespace

void log_sent(const Context& ctx, const TargetReport& report, const Signal& signal) {
    audit(Outcome::Delivered,
          sent_audit_line(ctx.caller_uid, ctx.identity.caller_pid, ctx.door, report, signal.name()));
}

CallReport check_arguments(const Request& request) {
    CallReport report = new_report(request);
    auto proc = open_proc_root();
    const std::uint32_t pid_max = proc ? read_pid_max(proc.value().get()) : kPidMaxLimit;
    auto args = parse_arguments(request, pid_max);
    if (!args) return fail_arguments(std::move(report), request, std::move(args).failure(), pid_max);
    report.signal_name = std::string(args.value().signal.name());
    return report;
}

CallReport refuse_call(CallReport checked, const Request& request, Failure failure, uid_t caller_uid, int caller_pid) {
    checked.targets.clear();
    checked.call_failure.reset();
    checked.caller_uid = caller_uid;
    checked.caller_pid = caller_pid;
    return fail_call(std::move(checked), std::move(failure), request.pid_args, kPidMaxLimit);
}

namespace {

// What a call asked for, once its arguments parsed, into its report.
Arguments take_arguments(CallReport& report, Arguments args) {
    report.signal_name = std::string(args.signal.name());
    report.wait = args.kill_after ? args.kill_after : args.wait;
    report.kill_after = args.kill_after.has_value();
    return args;
}

// The end both doors share, once everything is ready: list, or signal.
CallReport act(CallReport report, const Context& ctx, const Request& request, const Arguments& args) {
    if (request.list) {
        auto listed = list_accepted(ctx.proc_fd, ctx.identity, ctx.scope());
        if (!listed) {
            report.call_failure = std::move(listed).failure();
        } else {
            report.listed = std::move(listed).value();
        }
        return report;
    }
    report.targets = signal_targets(ctx, args.pids);
    return report;
}

}  // namespace

CallReport run(const Request& request, const Decision& decision) {
    CallReport report = new_report(request);
    report.door = decision.door;
    report.caller_pid = ::getppid();  // pkexec execs us: our parent is the caller
    report.caller_uid = decision.caller_uid;

    auto proc = open_proc_root();
    if (!proc) return fail_call(std::move(report), std::move(proc).failure(), request.pid_args, kPidMaxLimit);
    const int proc_fd = proc.value().get();
    // At once: the caller that pkexec checked is the one polkit will be asked about.
    auto caller = decision.polkit_required ? PinnedCaller::parent(proc_fd)
                                           : Result<PinnedCaller>(Failure{Outcome::NotAuthorized, "not needed"});
    const std::uint32_t pid_max = read_pid_max(proc_fd);

    auto parsed = parse_arguments(request, pid_max);
    if (!parsed) return fail_arguments(std::move(report), request, std::move(parsed).failure(), pid_max);
    const Arguments args = take_arguments(report, std::move(parsed).value());
    auto refuse = [&](Failure f) { return fail_call(std::move(report), std::move(f), request.pid_args, pid_max); };

    // A binary that someone else could have replaced must not act as root.
    if (auto where = unsafe_own_location()) {
        return refuse(Failure{Outcome::NotAuthorized, "refusing to run privileged: " + *where});
    }
    auto config = request.config_path ? load_config_file(*request.config_path, true)
                                      : load_config_file(BANGER_CONFIG_PATH, false);
    if (!config) return refuse(std::move(config).failure());
    // polkit's subject must be the process pkexec checked, alive and ours.
    if (decision.polkit_required && !caller) return refuse(std::move(caller).failure());
    auto helper = find_helper_user();
    if (!helper) return refuse(std::move(helper).failure());
    const bool same_cgroup_ns = same_cgroup_namespace_as_init(proc_fd);
    // Everything that needs root is open: work as the helper user from here
    // on, still single-threaded, so that every thread GLib starts is born
    // as unprivileged as this one.
    if (auto dropped = become_helper_user(helper.value()); !dropped) return refuse(std::move(dropped).failure());
    // And what the three capabilities would still allow beyond the call's
    // needs (ptrace and its kin, exec, writing files) is given up too.
    if (auto confined = confine_working_process(); !confined) return refuse(std::move(confined).failure());
    // polkitd accepts checks with details about another user's process from
    // the helper user (the policy names it the send and kill actions'
    // owner), so the bus connection is the helper's too, never root's. Its
    // failure is every check's answer.
    if (decision.polkit_required) {
        (void)connect_polkit();
        if (auto threads = verify_working_threads(helper.value(), true); !threads)
            return refuse(std::move(threads).failure());
    }

    const Context ctx{
        .door = decision.door,
        .proc_fd = proc_fd,
        .identity = Identity{::getpid(), report.caller_pid},
        .config = std::move(config).value(),
        .same_cgroup_ns = same_cgroup_ns,
        .signal = args.signal,
        .dry_run = request.dry_run,
        .polkit_required = decision.polkit_required,
        .caller_uid = decision.caller_uid,
        .wait = report.wait,
        .kill_after = report.kill_after,
        .caller = caller ? &caller.value() : nullptr,
    };
    return act(std::move(report), ctx, request, args);
}

CallReport serve_call(const Request& request, const Instance& instance) {
    const PinnedCaller& peer = instance.peer;
    CallReport report = new_report(request);
    report.door = Door::Socket;
    report.caller_pid = peer.pid();
    report.caller_uid = peer.uid();
    const std::uint32_t pid_max = read_pid_max(instance.proc_fd);
    auto parsed = parse_arguments(request, pid_max);
    if (!parsed) return fail_arguments(std::move(report), request, std::move(parsed).failure(), pid_max);
    const Arguments args = take_arguments(report, std::move(parsed).value());
    auto refuse = [&](Failure f) { return fail_call(std::move(report), std::move(f), request.pid_args, pid_max); };

    // --config is root's alone: the socket door never takes one.
    if (request.config_path) {
        return refuse(
            Failure{Outcome::NotAuthorized, "--config is honoured only for root callers, not through a door"});
    }
    // What PID 1 started must be the installed, root-owned binary.
    if (auto where = unsafe_own_location())
        return refuse(Failure{Outcome::NotAuthorized, "refusing to serve: " + *where});
    auto config = load_config_file(BANGER_CONFIG_PATH, false);
    if (!config) return refuse(std::move(config).failure());
    // The bus connection is the helper user's, as in the pkexec door: polkitd
    // takes checks about another user's process from it as the actions' owner.
    (void)connect_polkit();
    if (auto threads = verify_working_threads(instance.helper, true, true); !threads) {
        return refuse(std::move(threads).failure());
    }
    // The gate pkexec would have asked before running the helper: may the
    // peer use banger-signal at all?
    const Subject subject{peer.pid(), peer.start_time(), peer.uid(), peer.pidfd()};
    const auto gate = ask_polkit_all(
        {gate_query(subject, BANGER_INSTALLED_PATH)}, [&peer] { return peer.still_there(); }, pidfd_subjects());
    if (!gate[0]) return refuse(gate[0].failure());
    if (gate[0].value() != PolkitAnswer::Yes) return refuse(Failure{Outcome::NotAuthorized, gate_refusal_reason()});

    const Context ctx{
        .door = Door::Socket,
        .proc_fd = instance.proc_fd,
        .identity = Identity{::getpid(), peer.pid()},
        .config = std::move(config).value(),
        .same_cgroup_ns = same_cgroup_namespace_as_init(instance.proc_fd),
        .signal = args.signal,
        .dry_run = request.dry_run,
        .polkit_required = true,
        .caller_uid = peer.uid(),
        .wait = report.wait,
        .kill_after = report.kill_after,
        .caller = &peer,
        .hangup_fd = instance.connection,
    };
    return act(std::move(report), ctx, request, args);
}

}  // namespace banger
