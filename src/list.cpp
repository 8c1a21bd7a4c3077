#include "list.hpp"

#include <algorithm>

#include "examine.hpp"
#include "policy/cgroup_mounts.hpp"
#include "policy/pid.hpp"
#include "sys/cgroupfs.hpp"
#include "sys/pidfd.hpp"
#include "sys/proc_root.hpp"

namespace banger {

namespace {

// Which processes can possibly be accepted, cheaply: those in the service
// cgroup's subtree (its cgroup.procs files) and those whose exe is named
// firecracker. Only these are pinned and judged in full, so a busy host costs
// one readlink per process. Without a cgroup mount to walk: every process.
std::vector<std::uint32_t> list_candidates(int proc_fd, const Scope& scope, const std::vector<std::uint32_t>& all) {
    const CgroupMounts mounts =
        detect_cgroup_mounts(read_proc_file(proc_fd, "self/mountinfo", std::size_t{4} << 20).value_or(""));
    std::vector<std::uint32_t> candidates = pids_with_exe_name(proc_fd, all, "firecracker");
    bool walked = false;
    for (const std::string& mount : {mounts.unified, mounts.named_systemd}) {
        if (mount.empty()) continue;
        auto in_cgroup = cgroup_tree_pids(mount + std::string(scope.service_cgroup));
        if (!in_cgroup) continue;
        walked = true;
        candidates.insert(candidates.end(), in_cgroup->begin(), in_cgroup->end());
    }
    if (!walked && mounts.layout == CgroupLayout::None) return all;
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    return candidates;
}

}  // namespace

Result<std::vector<ListCandidate>> find_accepted(int proc_fd, const Identity& identity, const Scope& scope,
                                                 const std::function<void(std::uint32_t)>& reading) {
    auto pids = list_pids(proc_fd);
    if (!pids) return std::move(pids).failure();
    std::vector<ListCandidate> found;
    for (std::uint32_t number : list_candidates(proc_fd, scope, pids.value())) {
        if (refuse_protected_pid(number, identity)) continue;
        reading(number);
        auto pid = Pid::from(number);
        if (!pid) continue;
        auto pinned = PinnedProcess::pin(proc_fd, *pid);
        // Gone meanwhile: skipped. Not pinned for another reason (out of
        // fds): the listing would miss it, so there is none.
        if (!pinned && pinned.failure().outcome == Outcome::SystemError) return std::move(pinned).failure();
        if (!pinned) continue;
        PinnedProcess process = std::move(pinned).value();
        Judgement judged = judge_pinned(process, scope);
        if (judged.verdict.kind != Verdict::Kind::Accept) continue;
        process.close_proc_dir();
        Verdict& v = judged.verdict;
        found.push_back(ListCandidate{ListedProcess{number, v.match, std::move(v.cgroup), std::move(judged.exe),
                                                    std::move(v.api_sock), v.start_time},
                                      std::move(process), v.ppid});
    }
    return found;
}

Result<std::vector<ListedProcess>> list_accepted(std::vector<ListCandidate> candidates,
                                                 std::string_view service_cgroup) {
    std::vector<ListedProcess> listed;
    ServiceProcessGuard service(service_cgroup);
    for (ListCandidate& c : candidates) {
        if (auto own = service.refusal(c.listed.pid, c.listed.match, c.ppid)) {
            // Not listed; and if systemd cannot say, the listing would be a guess.
            if (own->outcome == Outcome::SystemError) return std::move(*own);
            continue;
        }
        if (!c.pin.verify_alive()) continue;
        listed.push_back(std::move(c.listed));
    }
    return listed;
}

}  // namespace banger
