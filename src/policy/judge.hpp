// The acceptance decision, as pure functions over facts already read.
// Every "may this process be signalled?" rule lives here; the flow only
// gathers facts in the order these functions need them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/proc_stat.hpp"
#include "policy/result.hpp"

namespace banger {

enum class Match { None, Cgroup, ApiSock };
[[nodiscard]] std::string_view match_name(Match m) noexcept;  // "", "cgroup", "api-sock"

// Who we are: the processes no call may ever signal.
struct Identity {
    int self_pid;
    int caller_pid;  // getppid(): pkexec execs us, so this is the real caller
};

// pid 0, pid 1, ourselves, our caller: Protected. Checked before pinning.
[[nodiscard]] std::optional<Failure> refuse_protected_pid(std::uint32_t pid, const Identity& id);

// A zombie has already exited (NoSuchProcess); a kernel thread is never a VM
// (Protected).
[[nodiscard]] std::optional<Failure> refuse_by_stat(const ProcStat& stat);

struct CgroupVerdict {
    bool accepted = false;
    std::string path;    // the cgroup that was judged (empty if unreadable)
    std::string reason;  // why not, when refused
};

// Rule 1: the process's cgroup is the service cgroup or below it.
// `same_cgroup_ns`: our cgroup namespace is PID 1's; otherwise the paths the
// kernel shows us are relative and prove nothing.
[[nodiscard]] CgroupVerdict judge_cgroup(std::string_view cgroup_file, std::string_view service_cgroup,
                                         bool same_cgroup_ns);

// Rule 2, first half: the executable (the /proc/<pid>/exe link, never argv:
// anyone can exec any binary with argv[0] = "firecracker") is Firecracker,
// and the command line names exactly one api socket strictly inside the
// runtime dir. Returns that socket path; the caller must still prove the
// process holds it (holds_listening_socket), because a command line alone
// proves nothing.
[[nodiscard]] Result<std::string> judge_api_sock_claim(std::optional<std::string_view> exe_link,
                                                       std::string_view cmdline_bytes,
                                                       std::string_view runtime_dir);

}  // namespace banger
