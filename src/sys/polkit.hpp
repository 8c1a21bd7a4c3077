// The fine-grained polkit check, asked of polkitd over the system bus.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "policy/result.hpp"

namespace banger {

struct PolkitQuery {
    int subject_pid;   // the caller, never banger-signal itself
    uid_t subject_uid; // PKEXEC_UID, never 0 on behalf of a user
    std::string action_id;
    std::vector<std::pair<std::string, std::string>> details;
};

enum class PolkitAnswer { Yes, Challenge, No };

// Asks polkitd without interaction. Failure (NotAuthorized) only when polkitd
// cannot be asked: unreachable, or the action is not registered.
[[nodiscard]] Result<PolkitAnswer> ask_polkit(const PolkitQuery& query);

// Asks polkitd about all queries at once: the requests are pipelined on one
// connection, so a batch of N targets costs about one round trip, not N.
// results[i] answers queries[i], with the meaning of check_polkit.
[[nodiscard]] std::vector<Status> check_polkit_all(const std::vector<PolkitQuery>& queries);

// Asks polkitd without interaction: YES is Done; NO or a challenge (which we
// cannot answer) is NotAuthorized; polkitd unreachable or the action not
// registered is NotAuthorized too, with a reason that says what is missing.
[[nodiscard]] Status check_polkit(const PolkitQuery& query);

}  // namespace banger
