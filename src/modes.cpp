#include "modes.hpp"

#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>

#include "build_config.hpp"
#include "flow.hpp"
#include "forward.hpp"
#include "policy/pid.hpp"
#include "sys/audit.hpp"
#include "sys/connection.hpp"
#include "sys/doctor.hpp"
#include "sys/elevate.hpp"
#include "sys/hardening.hpp"
#include "sys/limits.hpp"
#include "sys/privileges.hpp"
#include "sys/test_hooks.hpp"

namespace banger {

namespace {

void audit_all(const CallReport& report) {
    for (const auto& line : audit_lines(report)) audit(line.outcome, line.text);
}

}  // namespace

int doctor_mode() {
    const auto lines = run_doctor();
    for (const auto& line : lines) put(stdout, format_doctor_line(line));
    return any_failed(lines) ? exit_code(Outcome::ConfigError) : 0;
}

int elevate_mode(int argc, char** argv, const CommandLine& cli) {
    CallReport checked = check_arguments(cli.request);
    if (checked.call_failure) return emit(caller_view(checked), cli.json, cli.verbose);
    // The socket door first: it needs no setuid exec, so it serves callers
    // pkexec cannot (no_new_privs), and runs the call outside the caller's
    // cgroup. pkexec when the socket is not there, unless told otherwise.
    if (cli.door != DoorChoice::Pkexec) {
        int error = 0;
        auto conn = Connection::connect_to(BANGER_SOCKET_PATH, error);
        if (conn) {
            Connection connected = std::move(conn).value();
            return forward_through_socket(connected, cli, checked);
        }
        if (cli.door == DoorChoice::Socket) {
            CallReport refused = refuse_call(
                std::move(checked), cli.request,
                Failure{Outcome::NotAuthorized, conn.failure().reason + " (is banger-signal.socket enabled? "
                                                                        "systemctl enable --now banger-signal.socket)"},
                ::getuid(), ::getpid());
            refused.door = Door::Socket;
            return emit(caller_view(refused), cli.json, cli.verbose);
        }
    }
    Elevation elevated = elevate_through_pkexec(argc, argv);
    if (elevated.exit_code) return *elevated.exit_code;
    if (elevated.refusal) elevated.failure.reason = elevation_reason(*elevated.refusal);
    CallReport refused =
        refuse_call(std::move(checked), cli.request, std::move(elevated.failure), ::getuid(), ::getppid());
    // Not logged: pkexec logs its own refusal, and a line this unprivileged
    // process sent would be the caller's word, which proves nothing.
    refused.elevation = std::move(elevated.refusal);
    refused.door = Door::Pkexec;
    return emit(caller_view(refused), cli.json, cli.verbose);
}

int refuse_mode(const CommandLine& cli, const Decision& decision, Failure failure) {
    // --doctor and --serve ask for no target: there are no arguments to check,
    // and "--pid is required" would hide why the call was refused.
    CallReport checked = cli.doctor || cli.serve ? CallReport{} : check_arguments(cli.request);
    if (checked.call_failure) return emit(caller_view(checked), cli.json, cli.verbose);
    CallReport refused =
        refuse_call(std::move(checked), cli.request, std::move(failure), decision.caller_uid, ::getppid());
    refused.door = decision.door;
    test_pause("refusing");
    if (::geteuid() == 0) audit_all(refused);
    return emit(caller_view(refused), cli.json, cli.verbose);
}

int privileged_mode(const CommandLine& cli, const Decision& decision) {
    // Logged, then told; the same when the call must end early (flow.cpp).
    int code = 0;
    const Answer answer = [&cli, &code](const CallReport& report) {
        audit_all(report);
        code = emit(caller_view(report), cli.json, cli.verbose);
    };
    answer(run(cli.request, decision, answer));
    return code;
}

std::optional<Failure> harden_as_root(int argc) {
    // Each step is taken even after one failed (the call is then refused as
    // a whole, but never with more than the working capabilities).
    std::optional<Failure> first;
    const auto note = [&first](Status step) {
        if (!step && !first) first = std::move(step).failure();
    };
    if (!hold_async_signals()) note(Failure{Outcome::SystemError, "cannot hold signals"});
    if (!leave_real_time())
        note(Failure{Outcome::SystemError, "cannot leave the caller's real-time scheduling policy"});
    if (!reset_caller_priorities())
        note(Failure{Outcome::SystemError, "cannot reset the caller's nice value and oom_score_adj to 0"});
    // Every target takes two arguments; the parser refuses more than 4096.
    const auto targets = std::min<std::size_t>(static_cast<std::size_t>(argc), kMaxPidsPerCall);
    note(normalize_limits(targets));
    note(restrict_capabilities());
    return first;
}

}  // namespace banger
