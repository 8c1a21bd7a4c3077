// /proc itself: the root every read of another process starts from, and the
// few system-wide facts below it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policy/pid.hpp"
#include "policy/result.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

// Opens /proc and checks that it is procfs. Everything else is relative to it.
[[nodiscard]] Result<UniqueFd> open_proc_root();

// The path of the running binary (/proc/self/exe), or the errno why not.
[[nodiscard]] Result<std::string> own_executable_path();

// /proc/sys/kernel/pid_max, or kPidMaxLimit if unreadable.
[[nodiscard]] std::uint32_t read_pid_max(int proc_fd);

// Whether our cgroup namespace is PID 1's (false when unknown: fail closed).
[[nodiscard]] bool same_cgroup_namespace_as_init(int proc_fd);

// A file below /proc (e.g. "self/mountinfo"), at most `cap` bytes.
[[nodiscard]] std::optional<std::string> read_proc_file(int proc_fd, const char* name, std::size_t cap);

// Every numeric entry of /proc (processes, not threads), in directory order.
[[nodiscard]] Result<std::vector<std::uint32_t>> list_pids(int proc_fd);

// /proc/<pid>/status names a thread group other than <pid>: a thread.
[[nodiscard]] bool is_thread_id(int proc_fd, Pid pid);

}  // namespace banger
