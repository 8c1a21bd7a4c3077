// Is this process a banger VM? The whole acceptance decision, as pure
// functions over facts already read (policy/facts.hpp): judge_target() for
// everything the process's own /proc files tell, judge_socket_proof() for
// the one fact only the kernel's socket tables can give. The flow gathers
// facts and runs the proof a verdict asks for; it decides nothing itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/facts.hpp"
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

// What the rules are judged against.
struct Scope {
    std::string_view service_cgroup;
    std::string_view runtime_dir;
    // Our cgroup namespace is PID 1's; otherwise the paths the kernel shows
    // us are relative and prove nothing.
    bool same_cgroup_ns = false;
};

struct Verdict {
    enum class Kind {
        Accept,            // a banger VM, by `match`
        NeedsCommandLine,  // rule 1 did not accept, the executable is Firecracker:
                           // judge again with the cmdline read
        NeedsSocketProof,  // rule 2 holds if the process serves `api_sock`
        Refuse,            // `outcome`, `reason`
    };
    Kind kind = Kind::Refuse;
    Match match = Match::None;
    Outcome outcome = Outcome::NotManaged;
    // Refuse: why. NeedsCommandLine, NeedsSocketProof: why rule 1 did not
    // accept (the start of the reason if rule 2 fails).
    std::string reason;
    // Refuse, once rule 2 was tried: why it failed. Apart from `reason`
    // because it may name the target's executable and socket.
    std::optional<std::string> api_sock_reason;
    std::string cgroup;                   // the cgroup judged; empty if unusable
    std::optional<std::string> api_sock;  // the socket claimed on the command line
    std::uint64_t start_time = 0;         // from stat, once read
    std::int64_t ppid = 0;                // from stat, once read
};

// The rules, in order: the process is alive and no kernel thread (stat);
// rule 1, its cgroup is the service cgroup or below it; else rule 2's claim,
// its executable is Firecracker and its command line names one api socket
// strictly inside the runtime dir. The command line is asked for
// (NeedsCommandLine) only once rule 1 failed and the executable passed. A
// fact that could not be read refuses (its own outcome: gone is
// NoSuchProcess, unreadable a SystemError), except where a rule can fail on
// its own: an oversized cgroup file fails rule 1, an oversized command line
// rule 2 (NotManaged).
[[nodiscard]] Verdict judge_target(const TargetFacts& facts, const Scope& scope);

// Rule 2's last step: `proof` is whether the process holds a listening
// socket bound to the file at `verdict.api_sock` (sys/sock_diag.hpp).
// NotManaged from the proof refuses as not managed; any other failure
// (gone, a system error) refuses with its own outcome.
[[nodiscard]] Verdict judge_socket_proof(Verdict verdict, const Status& proof);

// The pieces of judge_target, exposed for their own tests.

// A zombie has already exited (NoSuchProcess); a kernel thread is never a VM
// (Protected).
[[nodiscard]] std::optional<Failure> refuse_by_stat(const ProcStat& stat);

struct CgroupVerdict {
    bool accepted = false;
    std::string path;    // the cgroup that was judged (empty if unreadable)
    std::string reason;  // why not, when refused
};

// Rule 1 on the bytes of /proc/<pid>/cgroup.
[[nodiscard]] CgroupVerdict judge_cgroup(std::string_view cgroup_file, std::string_view service_cgroup,
                                         bool same_cgroup_ns);

// Why the executable (the /proc/<pid>/exe link, never argv: anyone can exec
// any binary with argv[0] = "firecracker") is not Firecracker, or nullopt.
[[nodiscard]] std::optional<std::string> executable_problem(std::optional<std::string_view> exe_link);

// Rule 2, first half: executable_problem() finds none, and the command line
// names exactly one api socket strictly inside the runtime dir. Returns that
// socket path; a command line alone proves nothing, so judge_target asks
// for the proof that the process serves it.
[[nodiscard]] Result<std::string> judge_api_sock_claim(std::optional<std::string_view> exe_link,
                                                       std::string_view cmdline_bytes, std::string_view runtime_dir);

}  // namespace banger
