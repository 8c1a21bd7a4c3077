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
    if (static_cast<std::int64_t>(pid) == id.self_pid) return Failure{Outcome::Protected, "that is banger-signal itself"};
    if (static_cast<std::int64_t>(pid) == id.caller_pid) return Failure{Outcome::Protected, "that is the caller of banger-signal"};
    return std::nullopt;
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

Result<std::string> judge_api_sock_claim(std::optional<std::string_view> exe_link, std::string_view cmdline_bytes,
                                         std::string_view runtime_dir) {
    auto refuse = [](std::string reason) { return Failure{Outcome::NotManaged, std::move(reason)}; };
    if (!exe_link) return refuse("executable is unreadable");
    if (has_deleted_marker(*exe_link)) {
        return refuse(fmt::format("executable {} was deleted", *exe_link));
    }
    if (base_name(*exe_link) != "firecracker") {
        return refuse(fmt::format("executable {} is not firecracker", *exe_link));
    }

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
