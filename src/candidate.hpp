// One target on its way through the recipe (flow.cpp, wait.cpp), and what
// every step of a call shares.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <vector>

#include "policy/config.hpp"
#include "policy/judge.hpp"
#include "policy/result.hpp"
#include "policy/signal_name.hpp"
#include "report.hpp"
#include "sys/caller.hpp"
#include "sys/pidfd.hpp"
#include "sys/privileges.hpp"

namespace banger {

struct Context {
    Door door;
    int proc_fd;
    Identity identity;
    Config config;
    bool same_cgroup_ns;
    Signal signal;
    bool dry_run;
    bool polkit_required;
    uid_t caller_uid;
    std::optional<std::chrono::milliseconds> wait;  // --wait or --kill-after
    bool kill_after;                                // escalate to KILL after the wait
    const PinnedCaller* caller;                     // polkit's subject (pkexec's caller, the socket's peer)
    int hangup_fd = -1;                             // the socket door's connection: a hangup ends a wait
    HelperUser helper{};                            // whom every thread must be, once the bus is on
    bool instance = false;                          // the socket door's: it asks the gate itself
    const Answer* answer = nullptr;                 // how the door answers a call that must end now

    [[nodiscard]] Scope scope() const { return Scope{config.service_cgroup, config.runtime_dir, same_cgroup_ns}; }
};

// One target on its way through the recipe: what the report will say of it,
// and the pin that holds the process from pinning until it is refused (or,
// delivered, until the wait is over).
struct Candidate {
    TargetReport report;
    std::optional<PinnedProcess> pin;
    std::int64_t ppid = 0;  // as judged: whether it may be the service's own

    void refuse(Failure f) {
        report.outcome = f.outcome;
        report.reason = std::move(f.reason);
        pin.reset();
    }
};

// Each signal is on record before it is sent (see sending_audit_line).
void log_sending(const Context& ctx, const TargetReport& report, const Signal& signal);

// --wait and --kill-after, for all delivered targets at once (wait.cpp).
void wait_and_escalate(const Context& ctx, std::vector<Candidate>& candidates);

}  // namespace banger
