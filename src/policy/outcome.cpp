#include "policy/outcome.hpp"

#include <array>

#include <fmt/format.h>

namespace banger {

namespace {

// Codes 1, 126 and 127 are never used: 1 is what a crash or a generic failure
// looks like, 126/127 are pkexec's own answers, and callers must be able to
// tell those apart from ours.
constexpr std::array<OutcomeInfo, 10> kOutcomes{{
    {Outcome::Delivered, 0, "delivered", "delivered", "delivered (with --dry-run: would be delivered)"},
    {Outcome::UsageError, 2, "usage-error", "usage error", "usage error (bad option, malformed pid, too many pids)"},
    {Outcome::NoSuchProcess, 3, "no-such-process", "no such process", "no such process (or it exited before delivery)"},
    {Outcome::NotManaged, 4, "not-managed", "refused: not a banger-managed VM",
     "refused: target is not a banger-managed VM"},
    {Outcome::SignalRefused, 5, "signal-refused", "refused: signal not allowed", "refused: signal not allowed"},
    {Outcome::Protected, 6, "protected", "refused: protected process",
     "refused: protected process (pid 0 or 1, banger-signal, its caller, a kernel thread, the service's own process)"},
    {Outcome::NotAuthorized, 7, "not-authorized", "not authorized", "not authorized"},
    {Outcome::ConfigError, 8, "config-error", "configuration error", "configuration error"},
    {Outcome::SystemError, 9, "system-error", "system error", "system error"},
    {Outcome::StillRunning, 10, "still-running", "still running after the wait", "still running after a wait"},
}};

}  // namespace

const OutcomeInfo& info(Outcome o) noexcept {
    for (const auto& entry : kOutcomes) {
        if (entry.outcome == o) return entry;
    }
    return kOutcomes[8];  // unreachable: every enumerator is in the table (unit-tested)
}

std::span<const OutcomeInfo> all_outcomes() noexcept { return kOutcomes; }

std::string exit_code_table() {
    std::string table;
    for (const auto& entry : kOutcomes) table += fmt::format("{:>3}  {}\n", entry.exit_code, entry.meaning);
    return table + "With several pids: 0 only if all succeeded, else the code of the first failing pid.\n";
}

}  // namespace banger
