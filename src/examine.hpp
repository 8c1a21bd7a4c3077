// The steps that signalling and --list share, once a process is pinned:
// gather its facts, judge them, and run the socket proof the verdict asks for.
#pragma once

#include <optional>
#include <string>

#include "policy/judge.hpp"
#include "policy/service.hpp"
#include "sys/pidfd.hpp"

namespace banger {

struct Judgement {
    Verdict verdict;                 // Accept or Refuse, never NeedsCommandLine or NeedsSocketProof
    std::optional<std::string> exe;  // the exe link, as read for the verdict
};

[[nodiscard]] Judgement judge_pinned(const PinnedProcess& pinned, const Scope& scope);

// bangerd-root.service's own main and control process are in its cgroup,
// but they are the root service, not its VMs. systemd is asked which they
// are at most once per call, and only when a target could be one of them
// (policy/service.hpp). Without systemd as init, or for a service cgroup
// that names no .service unit, there is nobody to ask and nothing is refused.
class ServiceProcessGuard {
public:
    explicit ServiceProcessGuard(std::string_view service_cgroup);
    // Protected if the accepted target is one of them; SystemError if
    // systemd cannot say (fail closed).
    // `match` and `ppid` as the target was judged with.
    [[nodiscard]] std::optional<Failure> refusal(std::uint32_t pid, Match match, std::int64_t ppid);

private:
    std::optional<std::string> unit_;
    std::optional<Result<ServiceProcesses>> known_;
};

}  // namespace banger
