// Where the cgroup hierarchies are mounted, from /proc/self/mountinfo: the
// signalling path walks them for --list, --doctor reports the layout.
#pragma once

#include <string>
#include <string_view>

namespace banger {

enum class CgroupLayout { Unified, Hybrid, Legacy, None };

struct CgroupMounts {
    CgroupLayout layout = CgroupLayout::None;
    std::string unified;        // the cgroup2 mount point, if any
    std::string named_systemd;  // the v1 name=systemd mount point, if any
};

// From /proc/self/mountinfo. Mount points are unescaped ("\040" -> ' ').
[[nodiscard]] CgroupMounts detect_cgroup_mounts(std::string_view mountinfo);
[[nodiscard]] std::string_view layout_name(CgroupLayout layout) noexcept;

}  // namespace banger
