// The audit trail: every decision goes to syslog (facility authpriv, ident
// banger-signal), through spdlog.
#pragma once

#include <string_view>

#include "policy/outcome.hpp"

namespace banger {

// Logs one line at a priority fitting the outcome (info for delivered,
// warning for refusals, error for system errors).
void audit(Outcome outcome, std::string_view line);

}  // namespace banger
