// Pure helpers of --doctor: reading the cgroup layout from mountinfo, the
// exec.path from the installed polkit policy, and the report lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

enum class CgroupLayout { Unified, Hybrid, Legacy, None };

struct CgroupMounts {
    CgroupLayout layout = CgroupLayout::None;
    std::string unified;       // the cgroup2 mount point, if any
    std::string named_systemd; // the v1 name=systemd mount point, if any
};

// From /proc/self/mountinfo. Mount points are unescaped ("\040" -> ' ').
[[nodiscard]] CgroupMounts detect_cgroup_mounts(std::string_view mountinfo);
[[nodiscard]] std::string_view layout_name(CgroupLayout layout) noexcept;

// The org.freedesktop.policykit.exec.path annotation of `action_id` in a
// polkit .policy file, or nullopt.
[[nodiscard]] std::optional<std::string> policy_exec_path(std::string_view policy_xml, std::string_view action_id);

enum class Level { Ok, Warn, Fail };

struct DoctorLine {
    Level level;
    std::string check;
    std::string detail;
    std::string fix;  // empty for OK
};

// "OK    check: detail" / "FAIL  check: detail\n      fix: ...".
[[nodiscard]] std::string format_doctor_line(const DoctorLine& line);
[[nodiscard]] bool any_failed(const std::vector<DoctorLine>& lines) noexcept;

}  // namespace banger
