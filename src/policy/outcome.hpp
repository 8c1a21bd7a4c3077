// The one table of outcomes: every exit code banger-signal can return, its
// stable machine name (JSON "outcome") and its human summary. Nothing else in
// the program picks an exit code.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace banger {

enum class Outcome {
    Delivered,      // signal sent (or, with --dry-run, would be sent)
    UsageError,     // bad option, malformed pid, too many pids
    NoSuchProcess,  // gone, or exited before delivery
    NotManaged,     // target is not a banger-managed VM
    SignalRefused,  // signal not on the allowlist
    Protected,      // pid 0/1, ourselves, our caller, a kernel thread
    NotAuthorized,  // not root, --config from a non-root or pkexec caller, polkit said no
    ConfigError,    // install record missing, insecure or invalid
    SystemError,    // an unexpected syscall failure
    StillRunning,   // still alive when --wait or --kill-after gave up
};

struct OutcomeInfo {
    Outcome outcome;
    int exit_code;
    std::string_view name;     // JSON "outcome"
    std::string_view summary;  // the start of the human message
    std::string_view meaning;  // its line in the exit-code table (--help, the man page)
};

[[nodiscard]] const OutcomeInfo& info(Outcome o) noexcept;
// Every row of the table, in exit-code order.
[[nodiscard]] std::span<const OutcomeInfo> all_outcomes() noexcept;
[[nodiscard]] inline int exit_code(Outcome o) noexcept { return info(o).exit_code; }

// For --help: "code  meaning" lines, in code order, from the table above
// (the man page and README are checked against it).
[[nodiscard]] std::string exit_code_table();

}  // namespace banger
