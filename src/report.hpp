// What a call did, and the one place that turns it into words: human lines
// on stderr, JSON Lines on stdout, and the audit record.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/judge.hpp"
#include "policy/outcome.hpp"
#include "policy/result.hpp"
#include "policy/text.hpp"

namespace banger {

struct TargetReport {
    std::uint32_t pid = 0;
    Outcome outcome = Outcome::SystemError;
    Match match = Match::None;
    std::string reason;
    std::string cgroup;                    // empty when unknown
    std::optional<std::string> exe;
    std::optional<std::string> api_sock;
    std::string polkit;                    // "yes", "no", "not-needed" (root caller), "" (not reached)
    std::uint64_t start_time = 0;          // clock ticks after boot (/proc/<pid>/stat)
    bool escalated = false;                // --kill-after sent KILL
};

struct CallReport {
    std::string signal_name = "TERM";
    bool dry_run = false;
    bool list = false;  // --list: targets are the accepted processes
    uid_t caller_uid = 0;
    int caller_pid = 0;
    // A failure of the whole call (usage, signal, authorization, config):
    // reported once to humans; each target then carries the same outcome.
    std::optional<Failure> call_failure;
    std::vector<TargetReport> targets;
};

// 0 if every target succeeded, else the code of the first failure in argument
// order (a call failure without targets counts as the first).
[[nodiscard]] int exit_code_of(const CallReport& report) noexcept;

// Human lines for stderr (failures always; successes when verbose).
[[nodiscard]] std::vector<std::string> human_lines(const CallReport& report, bool verbose);
// --list without --json: a header and one row per accepted process, for stdout.
[[nodiscard]] std::vector<std::string> list_table(const CallReport& report);
// One JSON object per target, one per line (with --list: per accepted process).
[[nodiscard]] std::vector<std::string> json_lines(const CallReport& report);
struct AuditLine {
    Outcome outcome;
    std::string text;  // "key=value ..."
};
// One audit line per target (or one for a failure before any target),
// written when the call is over.
[[nodiscard]] std::vector<AuditLine> audit_lines(const CallReport& report);
// The line written the moment a signal has been sent ("event=sent"), before
// anything else may happen to the call: whatever ends it later (a limit its
// caller set, a crash), the signal is on record.
[[nodiscard]] std::string sent_audit_line(uid_t caller_uid, int caller_pid, const TargetReport& target,
                                          std::string_view signal);

}  // namespace banger
