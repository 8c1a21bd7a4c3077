// banger-signal: signal a banger-managed Firecracker VM, and nothing else.
// main reads as the whole program: sanitize, parse, decide, run, emit.
// Every decision lives in policy/, what each mode does in modes.cpp, the
// recipe of a privileged call in flow.cpp, every word in report.cpp.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "cli.hpp"
#include "modes.hpp"
#include "policy/caller.hpp"
#include "sys/connection.hpp"
#include "sys/hardening.hpp"
#include "sys/limits.hpp"
#include "sys/test_hooks.hpp"

namespace banger {
namespace {

int run_main(int argc, char** argv) {
    // banger-signal@.service's instance, with the connection systemd passed
    // as fd 3: kept, and nothing else.
    const bool with_connection =
        argc == 2 && argv[1] != nullptr && std::string_view(argv[1]) == "--serve" && started_with_connection();
    // Before anything is opened: nothing inherited from the caller survives,
    // and nothing can leave a core file.
    if (!forbid_core_dumps() || !sanitize_process_start(with_connection)) return exit_code(Outcome::SystemError);
    const bool root = ::geteuid() == 0;
    const std::optional<Failure> unsafe = root ? harden_as_root(argc) : std::nullopt;
    auto parsed = parse_command_line(argc, argv);
    if (const int* done = std::get_if<int>(&parsed)) return *done;
    const CommandLine& cli = std::get<CommandLine>(parsed);

    const char* pkexec_uid = std::getenv("PKEXEC_UID");
    const Caller caller{::getuid(), ::geteuid(),
                        pkexec_uid ? std::optional<std::string_view>(pkexec_uid) : std::nullopt};
    const Decision decision = decide_mode(caller, cli.doctor, cli.request.config_path.has_value(), cli.serve);
    // As root, the caller's environment must not steer anything, least of
    // all GLib (DBUS_SYSTEM_BUS_ADDRESS, G_DEBUG): PKEXEC_UID was its last
    // use. The instance's is systemd's, and needed no more either.
    if (root || decision.mode == Mode::Serve) {
        capture_test_hooks();  // test builds only: their pause point
        forget_environment();
    }
    if (unsafe && decision.mode != Mode::Elevate) return refuse_mode(cli, decision, *unsafe);
    switch (decision.mode) {
        case Mode::Doctor: return doctor_mode();
        case Mode::Elevate: return elevate_mode(argc, argv, cli);
        case Mode::Refuse: return refuse_mode(cli, decision, *decision.refusal);
        case Mode::Privileged: return privileged_mode(cli, decision);
        case Mode::Serve: return serve_mode(with_connection);
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
