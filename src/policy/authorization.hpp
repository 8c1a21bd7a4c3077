// May this caller send this signal to these targets? What the fine-grained
// polkit checks ask, built from the targets' facts, and how the answers
// fold back into one decision per target. Pure: sys/polkit.cpp asks.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/judge.hpp"
#include "policy/result.hpp"
#include "policy/signal_name.hpp"

namespace banger {

inline constexpr std::string_view kActionRun = "org.banger.signal.run";
inline constexpr std::string_view kActionSend = "org.banger.signal.send";
inline constexpr std::string_view kActionKill = "org.banger.signal.kill";

// KILL has its own action so that admins can deny it separately.
[[nodiscard]] std::string_view polkit_action_for(const Signal& signal) noexcept;

// The details polkit rules can see: pid, signal, match, cgroup, exe.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> polkit_details(int pid, const Signal& signal,
                                                                              Match match, std::string_view cgroup,
                                                                              std::string_view exe);

struct PolkitQuery {
    int subject_pid;    // the caller, never banger-signal itself
    uid_t subject_uid;  // PKEXEC_UID, never 0 on behalf of a user
    // The caller's start time as read when it was pinned: polkitd refuses a
    // subject whose process no longer has it (its pid was reused). 0 lets
    // libpolkit read it when the check is made, which is right only for a
    // process that cannot have gone (banger-signal itself, for --doctor).
    std::uint64_t subject_start_time;
    // A pidfd on the subject (borrowed, -1 for none): where polkitd takes
    // pidfd subjects (124+), it names the process beyond any doubt.
    int subject_pidfd;
    std::string action_id;
    std::vector<std::pair<std::string, std::string>> details;
    std::size_t target = 0;  // which of the targets it is about
};

// An accepted target, as polkit's rules see it.
struct AcceptedTarget {
    int pid;
    Match match;
    std::string_view cgroup;
    std::string_view exe;
};

// polkit's subject: the caller's process, pinned (start time, pidfd), with
// the uid the call is accounted to.
struct Subject {
    int pid;
    std::uint64_t start_time;
    uid_t uid;
    int pidfd = -1;
};

// A target whose cgroup or executable is not valid UTF-8 cannot be shown to
// polkit's rules as it is (D-Bus strings must be UTF-8; GLib would pass
// "[Invalid UTF-8]", and an admin's rule matching the real path would not
// see it): NotAuthorized, before anything is asked.
[[nodiscard]] std::optional<Failure> refuse_undescribable(const AcceptedTarget& target);

// The gate, asked by the socket door's instance as pkexec asks it before a
// run as root: org.banger.signal.run about the caller, with details "door"
// ("socket") and "program" (the installed binary), for admins' rules.
[[nodiscard]] PolkitQuery gate_query(const Subject& subject, std::string_view program);

// Whether a polkitd whose BackendVersion is `version` ("122", "126",
// "0.105") takes pidfd subjects: 124 and later.
[[nodiscard]] bool takes_pidfd_subjects(std::string_view version) noexcept;

// One check per target and signal the call may send to it: `signal`, and
// KILL too when --kill-after may escalate.
[[nodiscard]] std::vector<PolkitQuery> polkit_queries(std::span<const AcceptedTarget> targets, const Signal& signal,
                                                      bool may_escalate, const Subject& subject);

// answers[k] answers queries[k]. A target is allowed only if every check
// about it said yes; else the first denial is its failure.
[[nodiscard]] std::vector<std::optional<Failure>> fold_answers(const std::vector<PolkitQuery>& queries,
                                                               const std::vector<Status>& answers,
                                                               std::size_t target_count);

}  // namespace banger
