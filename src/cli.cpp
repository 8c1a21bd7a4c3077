#include "cli.hpp"

#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "build_config.hpp"
#include "policy/outcome.hpp"
#include "policy/signal_name.hpp"
#include "policy/text.hpp"

namespace banger {

namespace {

constexpr std::string_view kDescription =
    "Signal a Firecracker microVM started by bangerd-root.service, and nothing else.\n"
    "A target is accepted only if its cgroup is the service's cgroup (or below it),\n"
    "or it is a firecracker executable that serves its api socket inside banger's\n"
    "runtime directory. Run unprivileged, it asks through the socket door\n"
    "(" BANGER_SOCKET_PATH ") or else through pkexec.";

int usage_error(std::string_view message) {
    // CLI11 echoes every unexpected argument: keep the line readable.
    constexpr std::size_t kMaxShown = 300;
    std::string shown(message.substr(0, kMaxShown));
    if (message.size() > kMaxShown) shown += "...";
    return emit_failure(Failure{Outcome::UsageError, std::move(shown)});
}

}  // namespace

void put(std::FILE* stream, std::string_view line) {
    (void)std::fwrite(line.data(), 1, line.size(), stream);
    (void)std::fputc('\n', stream);
}

int emit(const CallView& view, bool json, bool verbose) {
    if (view.list && !view.call_failure && !json) {
        for (const auto& line : list_table(view)) put(stdout, line);
    }
    if (json) {
        for (const auto& line : json_lines(view)) put(stdout, line);
    }
    for (const auto& line : human_lines(view, verbose)) put(stderr, line);
    (void)std::fflush(stdout);
    return exit_code_of(view);
}

int emit_failure(Failure failure) {
    CallView view;
    view.call_failure = std::move(failure);
    return emit(view, false, false);
}

std::variant<CommandLine, int> parse_command_line(int argc, char** argv) {
    // The kernel turns an empty argv into [""]; neither is a real invocation.
    if (argc < 1 || argv[0] == nullptr || argv[0][0] == '\0') return usage_error("empty argument vector");
    CommandLine cli;
    Request& request = cli.request;
    std::string signal_arg;
    std::string config_arg;
    std::string wait_arg;
    std::string kill_after_arg;
    std::string door_arg;

    CLI::App app{std::string(kDescription), "banger-signal"};
    app.set_version_flag("--version", BANGER_SIGNAL_VERSION);
    app.add_option("--pid", request.pid_args, "target process id (repeatable, at most 4096); decimal digits only")
        ->type_name("PID")
        ->allow_extra_args(false)
        ->take_all();
    auto* signal_opt = app.add_option("--signal", signal_arg,
                                      fmt::format("signal to send (default TERM): {}; any case, optional SIG prefix",
                                                  allowed_signal_names()))
                           ->type_name("NAME");
    app.add_flag("--dry-run", request.dry_run, "run every check, signal nothing, report what would happen");
    app.add_flag("--json", cli.json, "one JSON object per target on stdout (JSON Lines)");
    auto* config_opt =
        app.add_option("--config", config_arg,
                       "install record to use instead of " BANGER_CONFIG_PATH " (real root only, not through pkexec)")
            ->type_name("PATH");
    app.add_flag("--verbose", cli.verbose, "also report successful deliveries on stderr");
    auto* wait_opt = app.add_option("--wait", wait_arg,
                                    "after delivery, wait up to SECONDS (fractions allowed) for the targets to exit; "
                                    "exit 10 if one is still running")
                         ->type_name("SECONDS");
    auto* kill_after_opt = app.add_option("--kill-after", kill_after_arg,
                                          "after delivery, wait up to SECONDS, then send KILL to targets still "
                                          "running and wait briefly for them to go")
                               ->type_name("SECONDS");
    auto* door_opt =
        app.add_option("--door", door_arg,
                       "how an unprivileged call reaches the privileged part: auto (default: the socket door when it "
                       "answers, else pkexec), socket, or pkexec; a call that runs as root ignores it")
            ->type_name("DOOR");
    app.add_flag("--serve", cli.serve,
                 "serve one call on the connection banger-signal.socket passes (banger-signal@.service runs this; "
                 "never as root)");
    app.add_flag("--doctor", cli.doctor,
                 "check the installation (binary, polkit policy and rules, group, authorization, config, cgroups, "
                 "pidfd); run it unprivileged; exit 0 if nothing fails, else 8");
    app.add_flag("--all", request.all,
                 "instead of --pid: every process --list would show, pinned in that same pass, with every check "
                 "--pid has (--all --dry-run --json: a preview)");
    app.add_flag("--list", request.list,
                 "list every process banger-signal would accept (pid, match, exe, cgroup, api socket, start time)");
    app.footer(
        fmt::format("Exit codes:\n{}\nSee banger-signal(8) for the acceptance rules and files.", exit_code_table()));

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
    if (door_opt->count() > 0) {
        if (door_arg == "socket") {
            cli.door = DoorChoice::Socket;
        } else if (door_arg == "pkexec") {
            cli.door = DoorChoice::Pkexec;
        } else if (door_arg != "auto") {
            return usage_error("--door: expected auto, socket or pkexec, not '" + excerpt(door_arg) + "'");
        }
    }
    if (cli.doctor && argc != 2) return usage_error("--doctor takes no other options");
    if (cli.serve && argc != 2) return usage_error("--serve takes no other options");
    return cli;
}

}  // namespace banger
