#include "policy/judge.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "policy/cgroup.hpp"
#include "policy/cmdline.hpp"
#include "policy/path.hpp"
#include "policy/text.hpp"

namespace banger {

std::string_view match_name(Match m) noexcept {
    switch (m) {
        case Match::None: return "";
        case Match::Cgroup: return "cgroup";
        case Match::ApiSock: return "api-sock";
    }
    return "";
}

std::optional<Failure> refuse_protected_pid(std::uint32_t pid, const Identity& id) {
    if (pid == 0) return Failure{Outcome::Protected, "pid 0 is never a target (it would signal a process group)"};
    if (pid == 1) return Failure{Outcome::Protected, "pid 1 is the init process"};
    if (static_cast<std::int64_t>(pid) == id.self_pid)
        return Failure{Outcome::Protected, "that is banger-signal itself"};
    if (static_cast<std::int64_t>(pid) == id.caller_pid)
        return Failure{Outcome::Protected, "that is the caller of banger-signal"};
    return std::nullopt;
}

namespace {

std::string too_large(std::string_view file, std::size_t cap) {
    return fmt::format("/proc/<pid>/{} is larger than {} bytes", file, cap);
}

Verdict refused(Verdict v, Outcome outcome, std::string reason) {
    v.kind = Verdict::Kind::Refuse;
    v.outcome = outcome;
    v.reason = std::move(reason);
    return v;
}

// A fact every rule needs could not be read: the call cannot judge it.
Verdict unread(Verdict v, const FileFact& fact, std::string_view file, std::size_t cap) {
    switch (fact.state) {
        case FileState::Gone: return refused(std::move(v), Outcome::NoSuchProcess, "process exited during the checks");
        case FileState::TooLarge: return refused(std::move(v), Outcome::NotManaged, too_large(file, cap));
        case FileState::NotRead:  // judge_target never asks this of an unread file
        case FileState::Unreadable:
        case FileState::Read: break;
    }
    return refused(std::move(v), Outcome::SystemError, fact.error);
}

// Rule 2 failed: not managed, with why rule 2 failed kept apart.
Verdict not_managed(Verdict v, std::string why) {
    v.kind = Verdict::Kind::Refuse;
    v.outcome = Outcome::NotManaged;
    v.api_sock_reason = std::move(why);
    return v;
}

}  // namespace

Verdict judge_target(const TargetFacts& facts, const Scope& scope) {
    Verdict v;
    // Kernel threads and zombies.
    if (facts.stat.state != FileState::Read) return unread(std::move(v), facts.stat, "stat", kStatCap);
    auto stat = parse_proc_stat(facts.stat.text);
    if (!stat) return refused(std::move(v), stat.failure().outcome, stat.failure().reason);
    if (auto f = refuse_by_stat(stat.value())) return refused(std::move(v), f->outcome, std::move(f->reason));
    v.start_time = stat.value().start_time;
    v.ppid = stat.value().ppid;

    // Rule 1: the service cgroup. An oversized file fails this rule only.
    CgroupVerdict by_cgroup;
    if (facts.cgroup.state == FileState::Read) {
        by_cgroup = judge_cgroup(facts.cgroup.text, scope.service_cgroup, scope.same_cgroup_ns);
    } else if (facts.cgroup.state == FileState::TooLarge) {
        by_cgroup.reason = too_large("cgroup", kCgroupCap);
    } else {
        return unread(std::move(v), facts.cgroup, "cgroup", kCgroupCap);
    }
    v.cgroup = by_cgroup.path;
    if (by_cgroup.accepted) {
        v.kind = Verdict::Kind::Accept;
        v.match = Match::Cgroup;
        return v;
    }
    v.reason = std::move(by_cgroup.reason);

    // Rule 2: a Firecracker that names its api socket in the runtime dir.
    // The command line is read only for a Firecracker executable.
    if (auto problem = executable_problem(facts.exe)) return not_managed(std::move(v), std::move(*problem));
    if (facts.cmdline.state == FileState::NotRead) {
        v.kind = Verdict::Kind::NeedsCommandLine;
        return v;
    }
    if (facts.cmdline.state == FileState::TooLarge) return not_managed(std::move(v), too_large("cmdline", kCmdlineCap));
    if (facts.cmdline.state != FileState::Read) return unread(std::move(v), facts.cmdline, "cmdline", kCmdlineCap);
    auto claim = judge_api_sock_claim(facts.exe, facts.cmdline.text, scope.runtime_dir);
    if (!claim) return not_managed(std::move(v), std::move(claim).failure().reason);
    v.api_sock = std::move(claim).value();
    v.kind = Verdict::Kind::NeedsSocketProof;
    return v;
}

Verdict judge_socket_proof(Verdict verdict, const Status& proof) {
    if (verdict.kind != Verdict::Kind::NeedsSocketProof) return verdict;
    if (proof) {
        verdict.kind = Verdict::Kind::Accept;
        verdict.match = Match::ApiSock;
        return verdict;
    }
    if (proof.failure().outcome == Outcome::NotManaged) return not_managed(std::move(verdict), proof.failure().reason);
    return refused(std::move(verdict), proof.failure().outcome, proof.failure().reason);
}

std::optional<Failure> refuse_by_stat(const ProcStat& stat) {
    if (stat.is_dead()) return Failure{Outcome::NoSuchProcess, "process has already exited (zombie)"};
    if (stat.is_kernel_thread()) return Failure{Outcome::Protected, "that is a kernel thread"};
    return std::nullopt;
}

CgroupVerdict judge_cgroup(std::string_view cgroup_file, std::string_view service_cgroup, bool same_cgroup_ns) {
    CgroupVerdict verdict;
    if (!same_cgroup_ns) {
        verdict.reason = "banger-signal runs in a private cgroup namespace, so cgroup paths prove nothing";
        return verdict;
    }
    auto path = select_cgroup_path(cgroup_file);
    if (!path) {
        verdict.reason = path.failure().reason;
        return verdict;
    }
    verdict.path = std::move(path).value();
    // Component match, never substring: a user's own systemd can create
    // ".../user@1000.service/app.slice/bangerd-root.service", and anyone who
    // can create "bangerd-root.service-x" must not pass either.
    verdict.accepted = is_within_cgroup(verdict.path, service_cgroup);
    if (!verdict.accepted) {
        verdict.reason = fmt::format("cgroup {} is not within {}", verdict.path, service_cgroup);
    }
    return verdict;
}

std::optional<std::string> executable_problem(std::optional<std::string_view> exe_link) {
    if (!exe_link) return "executable is unreadable";
    if (has_deleted_marker(*exe_link)) return fmt::format("executable {} was deleted", *exe_link);
    if (base_name(*exe_link) != "firecracker") return fmt::format("executable {} is not firecracker", *exe_link);
    return std::nullopt;
}

Result<std::string> judge_api_sock_claim(std::optional<std::string_view> exe_link, std::string_view cmdline_bytes,
                                         std::string_view runtime_dir) {
    auto refuse = [](std::string reason) { return Failure{Outcome::NotManaged, std::move(reason)}; };
    if (auto problem = executable_problem(exe_link)) return refuse(std::move(*problem));

    auto sock = find_api_sock(split_cmdline(cmdline_bytes));
    if (!sock) return sock;
    const std::string& path = sock.value();
    // Control characters in the path would reach messages and the log.
    if (has_control_character(path)) return refuse("api socket path contains a control character");
    if (auto problem = path_problem(path)) {
        return refuse(fmt::format("api socket path '{}' {}", path.substr(0, 256), *problem));
    }
    // Component match: "/run/banger-evil/x" is not inside "/run/banger".
    if (!is_strictly_within(path, runtime_dir)) {
        return refuse(fmt::format("api socket {} is not inside {}", path.substr(0, 256), runtime_dir));
    }
    return sock;
}

}  // namespace banger
