// The fine-grained polkit check, asked of polkitd over the system bus.
#pragma once

#include <sys/types.h>

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

// Asks polkitd about all queries at once: the requests are pipelined on one
// connection, so a batch of N targets costs about one round trip, not N.
// results[i] answers queries[i]: Done for YES; NotAuthorized for NO, for
// a challenge (nobody could answer it here), and when polkitd cannot be
// asked (unreachable, the action not registered), with a reason that says
// which.
[[nodiscard]] std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries);

}  // namespace banger
