// What a call did, as facts, and the one place that turns them into words:
// human lines on stderr, JSON Lines and the --list table on stdout, and
// every audit line. The flow records facts here; it writes no sentence.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/caller.hpp"
#include "policy/elevation.hpp"
#include "policy/judge.hpp"
#include "policy/outcome.hpp"
#include "policy/result.hpp"
#include "policy/text.hpp"

namespace banger {

[[nodiscard]] std::string_view door_name(Door door) noexcept;  // JSON "door", audit "door"

// polkit's part in a target's decision.
enum class PolkitDecision {
    NotAsked,   // the target was refused before polkit was asked
    NotNeeded,  // a real root caller needs no one's permission
    Yes,
    No,
};

struct TargetReport {
    std::uint32_t pid = 0;
    Outcome outcome = Outcome::SystemError;  // Delivered once the signal is sent (or would be)
    // Why it failed, in the words of the check that refused (judge, system
    // layer, polkit). When rule 2 was tried too, why it failed is apart:
    // it may name the target's executable and socket.
    std::string reason{};
    std::optional<std::string> api_sock_reason{};
    Match match = Match::None;
    std::string cgroup{};  // empty when unknown
    std::optional<std::string> exe{};
    std::optional<std::string> api_sock{};
    PolkitDecision polkit = PolkitDecision::NotAsked;
    bool escalated = false;       // --kill-after sent KILL
    bool exited = false;          // --wait / --kill-after saw it exit
    int interrupted_by = 0;       // StillRunning: the signal that ended the wait early, or 0
    bool caller_hung_up = false;  // StillRunning: the socket door's caller closed its end during the wait
    // A refused target the caller could not have read itself (not its own
    // process): its stderr line and JSON object name no cgroup, exe or
    // socket, and only the rule that failed. The audit line keeps it all.
    bool private_to_caller = false;
};

// One process --list accepts.
struct ListedProcess {
    std::uint32_t pid = 0;
    Match match = Match::None;
    std::string cgroup{};
    std::optional<std::string> exe{};
    std::optional<std::string> api_sock{};
    std::uint64_t start_time = 0;  // clock ticks after boot (/proc/<pid>/stat)
};

struct CallReport {
    Door door = Door::None;
    std::string signal_name = "TERM";
    bool dry_run = false;
    bool list = false;                              // --list: `listed` holds the accepted processes
    bool all = false;                               // --all: `targets` are what it found
    std::optional<std::chrono::milliseconds> wait;  // --wait or --kill-after
    bool kill_after = false;                        // the wait was --kill-after's
    uid_t caller_uid = 0;
    int caller_pid = 0;
    // A failure of the whole call (usage, signal, authorization, config):
    // reported once to humans; each target then carries the same outcome.
    std::optional<Failure> call_failure;
    std::optional<PkexecRefusal> elevation;  // pkexec refused: the privileged run never happened
    std::vector<TargetReport> targets;
    std::vector<ListedProcess> listed;
};

// What the caller is told of one target: all of it, except of a refused
// process that is not the caller's own (TargetReport::private_to_caller),
// with its reason in words. Its JSON object and its stderr line are written
// from this alone, so a view that travelled through the socket door prints
// exactly as one made in the same process.
struct TargetView {
    std::uint32_t pid = 0;
    Outcome outcome = Outcome::SystemError;
    std::string reason{};
    Match match = Match::None;
    std::string cgroup{};  // empty when not shown
    std::optional<std::string> exe{};
    std::optional<std::string> api_sock{};
    bool escalated = false;
};

// What the caller is told of a call: the report as its caller may see it.
struct CallView {
    Door door = Door::None;
    std::string signal_name = "TERM";
    bool dry_run = false;
    bool list = false;
    bool all = false;  // --all: targets are what it found
    std::optional<Failure> call_failure;
    std::optional<PkexecRefusal> elevation;
    std::vector<TargetView> targets;
    std::vector<ListedProcess> listed;
};

[[nodiscard]] CallView caller_view(const CallReport& report);

// 0 if every target succeeded, else the code of the first failure in argument
// order (a call failure without targets counts as the first).
[[nodiscard]] int exit_code_of(const CallView& view) noexcept;

// Human lines for stderr (failures always; successes when verbose).
[[nodiscard]] std::vector<std::string> human_lines(const CallView& view, bool verbose);
// --list without --json: a header and one row per accepted process, for stdout.
[[nodiscard]] std::vector<std::string> list_table(const CallView& view);
// One JSON object per target, one per line (with --list: per accepted process).
[[nodiscard]] std::vector<std::string> json_lines(const CallView& view);

// Why self-elevation did not happen, in words: the call's failure reason.
[[nodiscard]] std::string elevation_reason(const PkexecRefusal& refusal);
// polkit said no to the gate, org.banger.signal.run: the same words whichever
// door asked (pkexec, or the socket door's instance).
[[nodiscard]] std::string gate_refusal_reason();

struct AuditLine {
    Outcome outcome;
    std::string text;  // "key=value ..."
};
// One audit line per target (or one for a failure before any target),
// written when the call is over.
[[nodiscard]] std::vector<AuditLine> audit_lines(const CallReport& report);
// The line written right before a signal is sent ("event=sending"):
// whatever ends the call from then on (a caller freezing and killing its
// cgroup, a limit it set, a crash), every signal that may have been sent is
// on record. The outcome line, when the call ends, says what came of it.
[[nodiscard]] std::string sending_audit_line(uid_t caller_uid, int caller_pid, Door door, const TargetReport& target,
                                             std::string_view signal);
// Judging did not end in time ("event=stalled"): the pid whose facts were
// being read (none, for 0: the pass over /proc had not reached one). The caller is told stalled_reason(), which names no process
// (the socket door asks its gate only after judging).
[[nodiscard]] std::string stalled_audit_line(uid_t caller_uid, int caller_pid, Door door, std::uint32_t pid,
                                             std::chrono::milliseconds limit);
[[nodiscard]] std::string stalled_reason(std::chrono::seconds limit);

// How a door answers a call it must end at once (the judging deadline):
// logs the report and tells the caller, as at the call's normal end.
using Answer = std::function<void(const CallReport&)>;

}  // namespace banger
