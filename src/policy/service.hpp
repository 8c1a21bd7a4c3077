// bangerd-root.service's own processes: its main and control process live in
// the service cgroup too, but they are the root service, not its VMs. systemd
// knows which they are; these pure helpers say whom to ask about what.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

// The unit a service cgroup belongs to: its last component, if that names a
// service ("/system.slice/bangerd-root.service" -> "bangerd-root.service").
[[nodiscard]] std::optional<std::string> service_unit(std::string_view service_cgroup);

// systemd starts a service's main and control processes itself, so their
// parent is PID 1 (a forking daemon's too, once reparented); VMs are
// children of the service. Only a target accepted by its cgroup and
// parented by PID 1 can be one of the service's own, and needs asking.
// (A service that names another process its main one with sd_notify
// MAINPID= is not covered: bangerd-root never does.)
[[nodiscard]] bool may_be_service_process(std::int64_t ppid) noexcept;

struct ServiceProcesses {
    std::uint32_t main_pid = 0;     // 0: none
    std::uint32_t control_pid = 0;  // 0: none
};

// Protected, naming which, if `pid` is one of `unit`'s own processes.
[[nodiscard]] std::optional<Failure> refuse_service_process(std::uint32_t pid, const ServiceProcesses& own,
                                                            std::string_view unit);

}  // namespace banger
