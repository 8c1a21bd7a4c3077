// The recipe of a privileged call: load the config, then for each target
// pin -> gather facts -> judge (-> socket proof) -> authorize with polkit ->
// verify it is still the same process -> signal -> (wait, escalate). Every
// decision is made in policy/; the system layer in sys/ reads and acts;
// report.cpp turns what happened into words.
#pragma once

#include <sys/types.h>

#include "policy/arguments.hpp"
#include "policy/caller.hpp"
#include "report.hpp"
#include "sys/caller.hpp"
#include "sys/privileges.hpp"

namespace banger {

// Checks what needs no privilege (pids, signal name, durations), so that a
// malformed call fails fast and never reaches a password prompt. The report
// has a call_failure when the arguments are bad.
[[nodiscard]] CallReport check_arguments(const Request& request);

// A report for a call refused as a whole before anything was judged (the
// mode decision, or pkexec refusing to elevate): one entry per pid given,
// all with that failure. `checked` is what check_arguments() said of the
// same request (it had no call_failure).
[[nodiscard]] CallReport refuse_call(CallReport checked, const Request& request, Failure failure, uid_t caller_uid,
                                     int caller_pid);

// The whole privileged call (decision.mode is Privileged): signal the
// targets, or with `list`, report every process that would be accepted.
// `answer` ends a call that cannot go on (its judging stalled) at once.
[[nodiscard]] CallReport run(const Request& request, const Decision& decision, const Answer& answer);

// What the socket door's instance has made ready before its call is read
// (serve.cpp): /proc, the helper user it runs as, the caller it serves.
struct Instance {
    int proc_fd;
    HelperUser helper;
    const PinnedCaller& peer;
    int connection;  // a hangup ends a wait early
};

// The same call, served by the socket door's instance for its peer: the
// gate pkexec would have asked (org.banger.signal.run about the peer), then
// the same recipe.
[[nodiscard]] CallReport serve_call(const Request& request, const Instance& instance, const Answer& answer);

}  // namespace banger
