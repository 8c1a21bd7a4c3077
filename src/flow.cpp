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
#include "sys/deadline.hpp"
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

// Phase one, reading: protected pids, pin, facts, judgement. Leaves the
// candidate pinned (by its pidfd alone) if it is a banger VM, else refused.
void judge(const Context& ctx, Candidate& c) {
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
    c.ppid = v.ppid;
    // Only the pidfd is needed from here on: one fd per target, not two.
    process.close_proc_dir();
    c.pin = std::move(process);
}

// Between reading and talking: every fact is read (the judging deadline's
// watcher is gone), so CAP_SYS_PTRACE and
// CAP_DAC_READ_SEARCH go before the first byte goes to any bus (polkit's,
// systemd's); GLib's threads are then born with CAP_KILL alone, and every
// thread is checked. The socket door's instance then asks the gate about its
// peer, as pkexec did before the pkexec door's helper ran: a peer polkit
// refuses learns nothing of what was read, the call is refused whole (7).
Status start_talking(const Context& ctx, Deadline* judging) {
    if (judging != nullptr) {
        if (auto ended = judging->end(); !ended) return ended;
    }
    if (auto given_up = give_up_reading(); !given_up) return given_up;
    // polkitd takes checks with details about another user's process from
    // the helper user (the policy names it the actions' owner), so the bus
    // connection is the helper's too, never root's. Its failure is every
    // check's answer.
    if (ctx.polkit_required) (void)connect_polkit();
    if (auto threads = verify_working_threads(ctx.helper, true, ctx.instance, Phase::Signalling); !threads) {
        return threads;
    }
    test_pause("talking");
    if (!ctx.instance) return Done{};
    const PinnedCaller& peer = *ctx.caller;
    const Subject subject{peer.pid(), peer.start_time(), peer.uid(), peer.pidfd()};
    const auto gate = ask_polkit_all(
        {gate_query(subject, BANGER_INSTALLED_PATH)}, [&peer] { return peer.still_there(); }, pidfd_subjects());
    if (!gate[0]) return gate[0].failure();
    if (gate[0].value() != PolkitAnswer::Yes) return Failure{Outcome::NotAuthorized, gate_refusal_reason()};
    return Done{};
}

// The service's own main and control process are in its cgroup but are not
// VMs: systemd is asked, over the bus, once, only if a target may be one.
// --all found its targets as --list does, and --list does not show these:
// they are left out, not refused (if systemd cannot say, still refused, 9).
void refuse_service_processes(const Context& ctx, std::vector<Candidate>& candidates, bool leave_out_own) {
    ServiceProcessGuard service(ctx.config.service_cgroup);
    for (Candidate& c : candidates) {
        if (!c.pin) continue;
        if (auto own = service.refusal(c.report.pid, c.report.match, c.ppid)) c.refuse(std::move(*own));
    }
    if (!leave_out_own) return;
    std::erase_if(candidates, [](const Candidate& c) { return c.report.outcome == Outcome::Protected; });
}

// polkit, for this signal (and KILL, when --kill-after may send it) and
// each accepted target, asked all at once.
void authorize(const Context& ctx, std::span<Candidate> candidates) {
    std::vector<Candidate*> accepted;
    std::vector<AcceptedTarget> targets;
    for (Candidate& c : candidates) {
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

// Still the process we judged? Then signal it through the pidfd, on record
// before it goes.
void deliver(const Context& ctx, Candidate& c) {
    test_pause("judged");
    // The pidfd makes the send atomic; this turns a process that exited
    // during the checks into a clear answer.
    if (auto alive = c.pin->verify_alive(); !alive) return c.refuse(std::move(alive).failure());
    if (!ctx.dry_run) {
        log_sending(ctx, c.report, ctx.signal);
        if (auto sent = c.pin->send(ctx.signal); !sent) return c.refuse(std::move(sent).failure());
        test_pause("signalled");
    }
    c.report.outcome = Outcome::Delivered;
    // Without a wait, the pidfd has done its work.
    if (!ctx.wait || ctx.dry_run) c.pin.reset();
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
    report.all = request.all;
    return report;
}

}  // namespace

void log_sending(const Context& ctx, const TargetReport& report, const Signal& signal) {
    audit(Outcome::Delivered,
          sending_audit_line(ctx.caller_uid, ctx.identity.caller_pid, ctx.door, report, signal.name()));
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

// Reading every target's facts ends within this, or the call does.
constexpr std::chrono::seconds kJudgingLimit{10};

// Past the judging deadline, on the deadline's thread (the call's own is
// still waiting on a file system): the stalled pid goes on record, the call
// is answered and logged as a system error of the whole call (nothing has
// been signalled yet), and the process ends. A read that a fatal signal can
// end ends with it; one it cannot (a FUSE request its server took and never
// answers) keeps the process until that file system lets go, but the caller
// has its answer, and its pipes and connection their end.
[[noreturn]] void end_stalled(const Context& ctx, CallReport report, const std::vector<std::string>& pid_args,
                              std::uint32_t pid_max, std::uint32_t pid) {
    audit(Outcome::SystemError,
          stalled_audit_line(ctx.caller_uid, ctx.identity.caller_pid, ctx.door, pid,
                             std::chrono::duration_cast<std::chrono::milliseconds>(kJudgingLimit)));
    CallReport stalled =
        fail_call(std::move(report), Failure{Outcome::SystemError, stalled_reason(kJudgingLimit)}, pid_args, pid_max);
    if (ctx.answer != nullptr) (*ctx.answer)(stalled);
    for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, ctx.hangup_fd}) {
        if (fd >= 0) (void)::close(fd);
    }
    ::_exit(exit_code(Outcome::SystemError));
}

// The end both doors share, once everything is open: read every fact (pin
// and judge), start talking (start_talking), then ask systemd and polkit,
// signal and wait. A failure to start talking refuses the call whole.
CallReport act(CallReport report, const Context& ctx, const Request& request, const Arguments& args,
               std::uint32_t pid_max) {
    // Reading a fact may wait on files others serve: each target's end in
    // time, or the call does (end_stalled). The deadline watches from the
    // first step that may wait (sys/sock_diag's look below the runtime dir).
    Deadline deadline(kJudgingLimit,
                      [&ctx, stalled = report, pid_args = request.pid_args, pid_max](std::uint32_t pid) mutable {
                          end_stalled(ctx, std::move(stalled), pid_args, pid_max, pid);
                      });
    const auto reading = [&deadline](std::uint32_t pid) { deadline.reading(pid); };
    if (request.list) {
        auto found = find_accepted(ctx.proc_fd, ctx.identity, ctx.scope(), reading);
        if (!found) {
            report.call_failure = std::move(found).failure();
            return report;
        }
        if (auto talking = start_talking(ctx, &deadline); !talking) {
            report.call_failure = std::move(talking).failure();
            return report;
        }
        auto listed = list_accepted(std::move(found).value(), ctx.config.service_cgroup);
        if (!listed) {
            report.call_failure = std::move(listed).failure();
        } else {
            report.listed = std::move(listed).value();
        }
        return report;
    }
    std::vector<Candidate> candidates;
    if (request.all) {
        // Every process --list would show, pinned and judged in that same pass.
        auto found = find_accepted(ctx.proc_fd, ctx.identity, ctx.scope(), reading);
        if (!found) return fail_call(std::move(report), std::move(found).failure(), request.pid_args, pid_max);
        std::vector<ListCandidate> accepted = std::move(found).value();
        for (ListCandidate& f : accepted) {
            Candidate c;
            c.report.pid = f.listed.pid;
            c.report.match = f.listed.match;
            c.report.cgroup = std::move(f.listed.cgroup);
            c.report.exe = std::move(f.listed.exe);
            c.report.api_sock = std::move(f.listed.api_sock);
            c.pin = std::move(f.pin);
            c.ppid = f.ppid;
            candidates.push_back(std::move(c));
        }
    } else {
        candidates.resize(args.pids.size());
        for (std::size_t i = 0; i < args.pids.size(); ++i) candidates[i].report.pid = args.pids[i];
        for (Candidate& c : candidates) {
            reading(c.report.pid);
            judge(ctx, c);
        }
    }
    if (auto talking = start_talking(ctx, &deadline); !talking) {
        std::vector<std::string> named;  // --all: the pids it found, each refused
        if (request.all) {
            for (const Candidate& c : candidates) named.push_back(std::to_string(c.report.pid));
        }
        return fail_call(std::move(report), std::move(talking).failure(), request.all ? named : request.pid_args,
                         pid_max);
    }
    refuse_service_processes(ctx, candidates, request.all);
    authorize(ctx, candidates);
    for (Candidate& c : candidates) {
        if (c.pin) deliver(ctx, c);
    }
    if (ctx.wait && !ctx.dry_run) wait_and_escalate(ctx, candidates);
    report.targets.reserve(candidates.size());
    for (Candidate& c : candidates) report.targets.push_back(std::move(c.report));
    return report;
}

}  // namespace

CallReport run(const Request& request, const Decision& decision, const Answer& answer) {
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
        .helper = helper.value(),
        .answer = &answer,
    };
    return act(std::move(report), ctx, request, args, pid_max);
}

CallReport serve_call(const Request& request, const Instance& instance, const Answer& answer) {
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
    Context ctx{
        .door = Door::Socket,
        .proc_fd = instance.proc_fd,
        .identity = Identity{::getpid(), peer.pid()},
        .config = config ? config.value() : Config{},
        .same_cgroup_ns = same_cgroup_namespace_as_init(instance.proc_fd),
        .signal = args.signal,
        .dry_run = request.dry_run,
        .polkit_required = true,
        .caller_uid = peer.uid(),
        .wait = report.wait,
        .kill_after = report.kill_after,
        .caller = &peer,
        .hangup_fd = instance.connection,
        .helper = instance.helper,
        .instance = true,
        .answer = &answer,
    };
    if (!config) {
        // A broken install record is told only to a peer the gate lets in.
        if (auto talking = start_talking(ctx, nullptr); !talking) return refuse(std::move(talking).failure());
        return refuse(std::move(config).failure());
    }
    return act(std::move(report), ctx, request, args, pid_max);
}

}  // namespace banger
