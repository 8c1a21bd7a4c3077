#include "policy/outcome.hpp"

#include <array>

namespace banger {

namespace {

// Codes 1, 126 and 127 are never used: 1 is what a crash or a generic failure
// looks like, 126/127 are pkexec's own answers, and callers must be able to
// tell those apart from ours.
constexpr std::array<OutcomeInfo, 10> kOutcomes{{
    {Outcome::Delivered, 0, "delivered", "delivered"},
    {Outcome::UsageError, 2, "usage-error", "usage error"},
    {Outcome::NoSuchProcess, 3, "no-such-process", "no such process"},
    {Outcome::NotManaged, 4, "not-managed", "refused: not a banger-managed VM"},
    {Outcome::SignalRefused, 5, "signal-refused", "refused: signal not allowed"},
    {Outcome::Protected, 6, "protected", "refused: protected process"},
    {Outcome::NotAuthorized, 7, "not-authorized", "not authorized"},
    {Outcome::ConfigError, 8, "config-error", "configuration error"},
    {Outcome::SystemError, 9, "system-error", "system error"},
    {Outcome::StillRunning, 10, "still-running", "still running after the wait"},
}};

}  // namespace

const OutcomeInfo& info(Outcome o) noexcept {
    for (const auto& entry : kOutcomes) {
        if (entry.outcome == o) return entry;
    }
    return kOutcomes[8];  // unreachable: every enumerator is in the table (unit-tested)
}

std::string_view exit_code_table() noexcept {
    return "  0  delivered (with --dry-run: would be delivered)\n"
           "  2  usage error (bad option, malformed pid, too many pids)\n"
           "  3  no such process (or it exited before delivery)\n"
           "  4  refused: target is not a banger-managed VM\n"
           "  5  refused: signal not allowed\n"
           "  6  refused: protected process (pid 0 or 1, banger-signal, its caller, a kernel thread)\n"
           "  7  not authorized\n"
           "  8  configuration error\n"
           "  9  system error\n"
           " 10  still running after a wait\n"
           "With several pids: 0 only if all succeeded, else the code of the first failing pid.\n";
}

}  // namespace banger
