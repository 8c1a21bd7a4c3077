// --list: every process banger-signal would accept, read-only. In two
// phases, as a call to signal is: reading (find, pin and judge every
// candidate) and, once the reading capabilities are given up, asking systemd
// which of them are the service's own (over the bus).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "policy/judge.hpp"
#include "policy/result.hpp"
#include "report.hpp"
#include "sys/pidfd.hpp"

namespace banger {

// A process the listing accepts, pinned, until the service's own are known.
struct ListCandidate {
    ListedProcess listed;
    PinnedProcess pin;  // its pidfd alone
    std::int64_t ppid;  // who may be the service's own (policy/service.hpp)
};

// One pass over /proc, the same acceptance as signalling. Processes that
// vanish mid-scan are skipped, not errors. `reading` hears of each pid
// before its facts are read (the judging deadline names it if it stalls).
[[nodiscard]] Result<std::vector<ListCandidate>> find_accepted(int proc_fd, const Identity& identity,
                                                               const Scope& scope,
                                                               const std::function<void(std::uint32_t)>& reading);

// The listing: the candidates still alive but the service's own main and
// control process (SystemError, and no listing, when systemd cannot say).
[[nodiscard]] Result<std::vector<ListedProcess>> list_accepted(std::vector<ListCandidate> candidates,
                                                               std::string_view service_cgroup);

}  // namespace banger
