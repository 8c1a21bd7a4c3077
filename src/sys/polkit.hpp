// The fine-grained polkit check, asked of polkitd over the system bus.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "policy/authorization.hpp"
#include "policy/result.hpp"

namespace banger {

enum class PolkitAnswer { Yes, Challenge, No };

// Asks polkitd without interaction. Failure (NotAuthorized) only when polkitd
// cannot be asked: unreachable, or the action is not registered.
[[nodiscard]] Result<PolkitAnswer> ask_polkit(const PolkitQuery& query);

// Connects to polkitd on the system bus (loading libpolkit-gobject-1 first).
// polkitd takes the connection's credentials when it is made and trusts a
// check with details only from root: so this is done while still root, and
// the one connection serves the whole call. A failure is kept: every later
// check fails with it.
[[nodiscard]] Status connect_polkit();

// How the checks name their subject. WhereTaken: by pidfd (with pid, start
// time and uid), where polkitd takes pidfd subjects (its version 124 or
// later), else by pid and start time through libpolkit-gobject-1. Always:
// by pidfd whatever polkitd's version (for tests: an older polkitd then
// ignores the pidfd and reads pid and start time from the same message).
enum class PidfdSubjects { WhereTaken, Always };

// Asks polkitd about all queries at once: the requests are pipelined on one
// connection, so a batch of N targets costs about one round trip, not N.
// results[i] answers queries[i]: Done for YES; NotAuthorized for NO, for
// a challenge (nobody could answer it here), and when polkitd cannot be
// asked (unreachable, the action not registered), with a reason that says
// which.
// `subject_still_valid` is asked right before each check is sent: once it
// fails, the checks not yet sent fail with its reason.
[[nodiscard]] std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries,
                                                   const std::function<Status()>& subject_still_valid,
                                                   PidfdSubjects pidfds = PidfdSubjects::WhereTaken);

// The same, with polkit's answers as they are: answers[i] is queries[i]'s,
// or why polkit could not be asked (NotAuthorized).
[[nodiscard]] std::vector<Result<PolkitAnswer>> ask_polkit_all(const std::vector<PolkitQuery>& queries,
                                                               const std::function<Status()>& subject_still_valid,
                                                               PidfdSubjects pidfds = PidfdSubjects::WhereTaken);

}  // namespace banger
