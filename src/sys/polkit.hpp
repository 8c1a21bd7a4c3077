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

// Asks polkitd about all queries at once: the requests are pipelined on one
// connection, so a batch of N targets costs about one round trip, not N.
// results[i] answers queries[i]: Done for YES; NotAuthorized for NO, for
// a challenge (nobody could answer it here), and when polkitd cannot be
// asked (unreachable, the action not registered), with a reason that says
// which.
// `subject_still_valid` is asked right before each check is sent: once it
// fails, the checks not yet sent fail with its reason.
[[nodiscard]] std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries,
                                                   const std::function<Status()>& subject_still_valid);

}  // namespace banger
