// banger-signal: signal a banger-managed Firecracker VM, and nothing else.
// main reads as the whole program: sanitize, parse, decide, run, emit.
// Every decision lives in policy/, the recipe in flow.cpp, every word in
// report.cpp.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "cli.hpp"
#include "flow.hpp"
#include "policy/caller.hpp"
#include "policy/pid.hpp"
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
        refuse_call(std::move(checked), cli.request, std::move(elevated.failure), ::getuid(), ::getppid());
    // Not logged: pkexec logs its own refusal, and a line this unprivileged
    // process sent would be the caller's word, which proves nothing.
    refused.elevation = std::move(elevated.refusal);
    return emit(refused, cli.json, cli.verbose);
}

// A call refused as a whole, before anything was judged. Logged only by
// root: a line from an unprivileged caller's own process proves nothing.
int refuse(const CommandLine& cli, uid_t caller_uid, Failure failure) {
    CallReport checked = check_arguments(cli.request);
    if (checked.call_failure) return emit(checked, cli.json, cli.verbose);
    const CallReport refused =
        refuse_call(std::move(checked), cli.request, std::move(failure), caller_uid, ::getppid());
    if (::geteuid() == 0) audit_all(refused);
    return emit(refused, cli.json, cli.verbose);
}

int privileged(const CommandLine& cli, const Decision& decision) {
    const CallReport report = run(cli.request, decision);
    audit_all(report);
    return emit(report, cli.json, cli.verbose);
}

// As root, before anything the caller wrote (argv, the environment) is
// read: no signal can end the call between a signal sent and its audit
// line, the limits are ones the call can live with (before GLib and its
// threads), and only the capabilities the call needs are left, which every
// thread started later inherits.
std::optional<Failure> harden_as_root(int argc) {
    if (!hold_async_signals()) return Failure{Outcome::SystemError, "cannot block signals"};
    // Every target takes two arguments; the parser refuses more than 4096.
    const auto targets = std::min<std::size_t>(static_cast<std::size_t>(argc), kMaxPidsPerCall);
    if (auto limits = normalize_limits(targets, true); !limits) return std::move(limits).failure();
    if (auto restricted = restrict_capabilities(); !restricted) return std::move(restricted).failure();
    return std::nullopt;
}

int run_main(int argc, char** argv) {
    // Before anything is opened: nothing inherited from the caller survives,
    // and nothing can leave a core file.
    if (!forbid_core_dumps() || !sanitize_process_start()) return exit_code(Outcome::SystemError);
    const bool root = ::geteuid() == 0;
    const std::optional<Failure> unsafe = root ? harden_as_root(argc) : std::nullopt;
    auto parsed = parse_command_line(argc, argv);
    if (const int* done = std::get_if<int>(&parsed)) return *done;
    const CommandLine& cli = std::get<CommandLine>(parsed);

    const char* pkexec_uid = std::getenv("PKEXEC_UID");
    const Caller caller{::getuid(), ::geteuid(),
                        pkexec_uid ? std::optional<std::string_view>(pkexec_uid) : std::nullopt};
    const Decision decision = decide_mode(caller, cli.doctor, cli.request.config_path.has_value());
    // As root, the caller's environment must not steer anything, least of
    // all GLib (DBUS_SYSTEM_BUS_ADDRESS, G_DEBUG): PKEXEC_UID was its last use.
    if (root) {
        capture_test_hooks();  // test builds only: their pause point
        forget_environment();
    }
    if (unsafe && decision.mode != Mode::Elevate) return refuse(cli, decision.caller_uid, *unsafe);
    switch (decision.mode) {
        case Mode::Doctor: return doctor();
        case Mode::Elevate: return elevate(argc, argv, cli);
        case Mode::Refuse: return refuse(cli, decision.caller_uid, *decision.refusal);
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
