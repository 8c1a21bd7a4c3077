// banger-signal: signal a banger-managed Firecracker VM, and nothing else.
// main reads as the whole program: sanitize, parse, decide, run, emit.
// Every decision lives in policy/, the recipe in flow.cpp, every word in
// report.cpp.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "cli.hpp"
#include "flow.hpp"
#include "policy/caller.hpp"
#include "sys/audit.hpp"
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

int doctor() {
    const auto lines = run_doctor();
    for (const auto& line : lines) put(stdout, format_doctor_line(line));
    return any_failed(lines) ? exit_code(Outcome::ConfigError) : 0;
}

// Not root: check the arguments here (a malformed call never reaches a
// password prompt), then let polkit decide through pkexec.
int elevate(int argc, char** argv, const CommandLine& cli) {
    CallReport checked = check_arguments(cli.request);
    if (checked.call_failure) return emit(checked, cli.json, cli.verbose);
    Elevation elevated = elevate_through_pkexec(argc, argv);
    if (elevated.exit_code) return *elevated.exit_code;
    if (elevated.refusal) elevated.failure.reason = elevation_reason(*elevated.refusal);
    CallReport refused =
        refuse_call(std::move(checked), cli.request, std::move(elevated.failure), ::getuid(), ::getpid());
    // Not logged: pkexec logs its own refusal, and a line this unprivileged
    // process sent would be the caller's word, which proves nothing.
    refused.elevation = std::move(elevated.refusal);
    return emit(refused, cli.json, cli.verbose);
}

int refuse(const CommandLine& cli, const Decision& decision) {
    CallReport checked = check_arguments(cli.request);
    if (checked.call_failure) return emit(checked, cli.json, cli.verbose);
    const CallReport refused =
        refuse_call(std::move(checked), cli.request, *decision.refusal, decision.caller_uid, ::getppid());
    audit_all(refused);
    return emit(refused, cli.json, cli.verbose);
}

int privileged(const CommandLine& cli, const Decision& decision) {
    // From here on nobody but a fault of ours may end the call between a
    // signal sent and its audit line (before polkit starts any thread).
    if (!hold_async_signals()) return emit_failure(Failure{Outcome::SystemError, "cannot block signals"});
    // Before GLib is loaded, before any thread: limits the call can live with.
    const Request& request = cli.request;
    if (auto limits = normalize_limits(request.pid_args.size(), request.wait_arg || request.kill_after_arg); !limits) {
        return emit_failure(std::move(limits).failure());
    }
    // Keep only what the checks, the signal and the switch to the helper
    // user need; every thread started later inherits just that.
    if (auto dropped = restrict_capabilities(); !dropped) return emit_failure(std::move(dropped).failure());
    const CallReport report = run(request, decision);
    audit_all(report);
    return emit(report, cli.json, cli.verbose);
}

int run_main(int argc, char** argv) {
    // Before anything is opened: nothing inherited from the caller survives,
    // and nothing can leave a core file.
    if (!forbid_core_dumps() || !sanitize_process_start()) return exit_code(Outcome::SystemError);
    auto parsed = parse_command_line(argc, argv);
    if (const int* done = std::get_if<int>(&parsed)) return *done;
    const CommandLine& cli = std::get<CommandLine>(parsed);

    const char* pkexec_uid = std::getenv("PKEXEC_UID");
    const Caller caller{::getuid(), ::geteuid(),
                        pkexec_uid ? std::optional<std::string_view>(pkexec_uid) : std::nullopt};
    const Decision decision = decide_mode(caller, cli.doctor, cli.request.config_path.has_value());
    // As root, the caller's environment must not steer anything, least of
    // all GLib (DBUS_SYSTEM_BUS_ADDRESS, G_DEBUG): PKEXEC_UID was its last use.
    if (decision.mode == Mode::Privileged || decision.mode == Mode::Refuse) {
        capture_test_hooks();  // test builds only: their pause point
        forget_environment();
    }
    switch (decision.mode) {
        case Mode::Doctor: return doctor();
        case Mode::Elevate: return elevate(argc, argv, cli);
        case Mode::Refuse: return refuse(cli, decision);
        case Mode::Privileged: return privileged(cli, decision);
    }
    return exit_code(Outcome::SystemError);
}

}  // namespace
}  // namespace banger

int main(int argc, char** argv) {
    // Nothing may escape as an uncaught exception (std::terminate would exit
    // with SIGABRT, outside the contract): out of memory and the like are
    // system errors.
    try {
        return banger::run_main(argc, argv);
    } catch (const std::exception& e) {
        banger::put(stderr, std::string("banger-signal: system error: ") + e.what());
    } catch (...) {
        banger::put(stderr, "banger-signal: system error: unexpected exception");
    }
    return banger::exit_code(banger::Outcome::SystemError);
}
