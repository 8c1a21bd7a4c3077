// Cheap candidate lists for --list: which processes could possibly be
// accepted. Nothing here pins or judges; every candidate is judged in full.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

// Pids whose /proc/<pid>/exe link ends in "/<name>" (one readlink each).
[[nodiscard]] std::vector<std::uint32_t> pids_with_exe_name(int proc_fd, const std::vector<std::uint32_t>& pids,
                                                            std::string_view name);

// Pids in the cgroup directory `dir` and every cgroup below it (cgroup.procs),
// or nullopt if `dir` cannot be walked.
[[nodiscard]] std::optional<std::vector<std::uint32_t>> cgroup_tree_pids(const std::string& dir);

}  // namespace banger
