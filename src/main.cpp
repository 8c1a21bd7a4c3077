// banger-signal: signal a banger-managed Firecracker VM, and nothing else.
// main only parses the command line, calls the flow and maps its report to
// output and an exit code; every decision lives in flow.cpp and policy/.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "build_config.hpp"
#include "flow.hpp"
#include "policy/outcome.hpp"
#include "policy/signal_name.hpp"
#include "report.hpp"
#include "sys/audit.hpp"
#include "sys/doctor.hpp"
#include "sys/elevate.hpp"
#include "sys/hardening.hpp"

namespace {

constexpr std::string_view kDescription =
    "Signal a Firecracker microVM started by bangerd-root.service, and nothing else.\n"
    "A target is accepted only if its cgroup is the service's cgroup (or below it),\n"
    "or it is a firecracker executable that serves its api socket inside banger's\n"
    "runtime directory. Meant to be run through pkexec.";

// One line of output. If the stream is gone there is nobody to tell; the
// exit code and the audit line still say what happened.
void put(std::FILE* stream, std::string_view line) {
    (void)std::fwrite(line.data(), 1, line.size(), stream);
    (void)std::fputc('\n', stream);
}

int usage_error(std::string_view message) {
    // CLI11 echoes every unexpected argument: keep the line readable.
    constexpr std::size_t kMaxShown = 300;
    std::string shown = banger::printable(message.substr(0, kMaxShown));
    if (message.size() > kMaxShown) shown += "...";
    put(stderr, fmt::format("banger-signal: usage error: {}", shown));
    put(stderr, "Try 'banger-signal --help' for more information.");
    return banger::exit_code(banger::Outcome::UsageError);
}

int emit(const banger::CallReport& report, bool json, bool verbose) {
    if (report.list && !report.call_failure && !json) {
        for (const auto& line : banger::list_table(report)) put(stdout, line);
    }
    if (json) {
        for (const auto& line : banger::json_lines(report)) put(stdout, line);
    }
    for (const auto& line : banger::human_lines(report, verbose)) put(stderr, line);
    (void)std::fflush(stdout);
    return banger::exit_code_of(report);
}

int run_main(int argc, char** argv) {
    // Before anything is opened: nothing inherited from the caller survives.
    if (!banger::sanitize_process_start()) return banger::exit_code(banger::Outcome::SystemError);
    // The kernel turns an empty argv into [""]; neither is a real invocation.
    if (argc < 1 || argv[0] == nullptr || argv[0][0] == '\0') return usage_error("empty argument vector");

    banger::Request request;
    std::string signal_arg;
    std::string config_arg;
    std::string wait_arg;
    std::string kill_after_arg;
    bool json = false;
    bool verbose = false;

    CLI::App app{std::string(kDescription), "banger-signal"};
    app.set_version_flag("--version", BANGER_SIGNAL_VERSION);
    app.add_option("--pid", request.pid_args, "target process id (repeatable, at most 4096); decimal digits only")
        ->type_name("PID")
        ->allow_extra_args(false)
        ->take_all();
    auto* signal_opt = app.add_option("--signal", signal_arg,
                                      fmt::format("signal to send (default TERM): {}; any case, optional SIG prefix",
                                                  banger::allowed_signal_names()))
                           ->type_name("NAME");
    app.add_flag("--dry-run", request.dry_run, "run every check, signal nothing, report what would happen");
    app.add_flag("--json", json, "one JSON object per target on stdout (JSON Lines)");
    auto* config_opt = app.add_option("--config", config_arg,
                                      "install record to use instead of " BANGER_CONFIG_PATH
                                      " (real root only, not through pkexec)")
                           ->type_name("PATH");
    app.add_flag("--verbose", verbose, "also report successful deliveries on stderr");
    auto* wait_opt = app.add_option("--wait", wait_arg,
                                    "after delivery, wait up to SECONDS (fractions allowed) for the targets to exit; "
                                    "exit 10 if one is still running")
                         ->type_name("SECONDS");
    auto* kill_after_opt = app.add_option("--kill-after", kill_after_arg,
                                          "after delivery, wait up to SECONDS, then send KILL to targets still "
                                          "running and wait briefly for them to go")
                               ->type_name("SECONDS");
    bool doctor = false;
    app.add_flag("--doctor", doctor,
                 "check the installation (binary, polkit policy and rules, group, authorization, config, cgroups, "
                 "pidfd); run it unprivileged; exit 0 if nothing fails, else 8");
    app.add_flag("--list", request.list,
                 "list every process banger-signal would accept (pid, match, exe, cgroup, api socket, start time)");
    app.footer(fmt::format("Exit codes:\n{}\nSee banger-signal(8) for the acceptance rules and files.",
                           banger::exit_code_table()));

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        (void)std::fputs(app.help().c_str(), stdout);
        return 0;
    } catch (const CLI::CallForVersion&) {
        put(stdout, "banger-signal " BANGER_SIGNAL_VERSION);
        return 0;
    } catch (const CLI::ParseError& e) {
        // CLI11's own exit codes (100+) never leak: every parse error is 2.
        return usage_error(e.what());
    }
    if (signal_opt->count() > 0) request.signal_arg = signal_arg;
    if (config_opt->count() > 0) request.config_path = config_arg;
    if (wait_opt->count() > 0) request.wait_arg = wait_arg;
    if (kill_after_opt->count() > 0) request.kill_after_arg = kill_after_arg;

    if (doctor) {
        if (argc != 2) return usage_error("--doctor takes no other options");
        const auto lines = banger::run_doctor();
        for (const auto& line : lines) put(stdout, banger::format_doctor_line(line));
        return banger::any_failed(lines) ? banger::exit_code(banger::Outcome::ConfigError) : 0;
    }

    // Not root: check the arguments here, then let polkit decide through
    // pkexec. (--config is never elevated: the privileged run would refuse it.)
    if ((::getuid() != 0 || ::geteuid() != 0) && !request.config_path) {
        banger::CallReport checked = banger::check_arguments(request);
        if (checked.call_failure) return emit(checked, json, verbose);
        std::string summary = "pids=";
        for (std::size_t i = 0; i < request.pid_args.size(); ++i) summary += (i ? "," : "") + request.pid_args[i];
        if (request.list) summary = "list=1";
        auto elevated = banger::elevate_through_pkexec(argc, argv, summary + " signal=" + checked.signal_name);
        if (elevated) return elevated.value();
        return emit(banger::refuse_call(std::move(checked), request, std::move(elevated).failure()), json,
                    verbose);
    }

    // From here on nobody but a fault of ours may end the call between a
    // signal sent and its audit line (before polkit starts any thread).
    if (!banger::hold_async_signals()) {
        put(stderr, "banger-signal: system error: cannot block signals");
        return banger::exit_code(banger::Outcome::SystemError);
    }
    // Privileged from here on: keep only the capabilities the checks and the
    // signal need.
    if (::getuid() == 0 && ::geteuid() == 0) {
        if (auto dropped = banger::drop_privileges(); !dropped) {
            put(stderr, "banger-signal: system error: " + dropped.failure().reason);
            return banger::exit_code(banger::Outcome::SystemError);
        }
        banger::raise_fd_limit();
    }
    const banger::CallReport report = banger::run(request);
    for (const auto& line : banger::audit_lines(report)) banger::audit(line.outcome, line.text);
    return emit(report, json, verbose);
}
}  // namespace

int main(int argc, char** argv) {
    // Nothing may escape as an uncaught exception (std::terminate would exit
    // with SIGABRT, outside the contract): out of memory and the like are
    // system errors.
    try {
        return run_main(argc, argv);
    } catch (const std::exception& e) {
        put(stderr, std::string("banger-signal: system error: ") + e.what());
    } catch (...) {
        put(stderr, "banger-signal: system error: unexpected exception");
    }
    return banger::exit_code(banger::Outcome::SystemError);
}
