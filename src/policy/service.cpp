#include "policy/service.hpp"

#include <fmt/format.h>

#include "policy/path.hpp"

namespace banger {

std::optional<std::string> service_unit(std::string_view service_cgroup) {
    std::string_view name = base_name(service_cgroup);
    constexpr std::string_view kSuffix = ".service";
    if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
    return std::string(name);
}

bool may_be_service_process(std::int64_t ppid) noexcept { return ppid == 1; }

std::optional<Failure> refuse_service_process(std::uint32_t pid, const ServiceProcesses& own, std::string_view unit) {
    if (pid == 0) return std::nullopt;
    if (pid == own.main_pid)
        return Failure{Outcome::Protected,
                       fmt::format("that is the service's own process (the main process of {})", unit)};
    if (pid == own.control_pid) {
        return Failure{Outcome::Protected,
                       fmt::format("that is the service's own process (the control process of {})", unit)};
    }
    return std::nullopt;
}

}  // namespace banger
