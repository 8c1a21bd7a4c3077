// --list: every process banger-signal would accept, read-only.
#pragma once

#include <vector>

#include "policy/judge.hpp"
#include "policy/result.hpp"
#include "report.hpp"

namespace banger {

// One pass over /proc, the same acceptance as signalling. Processes that
// vanish mid-scan are skipped, not errors.
[[nodiscard]] Result<std::vector<ListedProcess>> list_accepted(int proc_fd, const Identity& identity,
                                                               const Scope& scope);

}  // namespace banger
