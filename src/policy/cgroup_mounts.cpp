#include "policy/cgroup_mounts.hpp"

#include <algorithm>
#include <vector>

#include "policy/text.hpp"

namespace banger {

namespace {

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> fields;
    while (!line.empty()) {
        std::size_t sp = line.find(' ');
        if (sp != 0) fields.push_back(line.substr(0, sp));
        if (sp == std::string_view::npos) break;
        line.remove_prefix(sp + 1);
    }
    return fields;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() &&
            std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i) + 1, s.begin() + static_cast<std::ptrdiff_t>(i) + 4,
                        [](char c) { return c >= '0' && c <= '7'; })) {
            out += static_cast<char>(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

CgroupMounts detect_cgroup_mounts(std::string_view mountinfo) {
    CgroupMounts mounts;
    bool any_v1 = false;
    while (!mountinfo.empty()) {
        std::string_view line = next_line(mountinfo);
        // "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS"
        auto fields = split_spaces(line);
        auto dash = std::find(fields.begin(), fields.end(), "-");
        // The separator follows at least six fields, and mount points are absolute.
        if (dash == fields.end() || dash - fields.begin() < 6 || fields.end() - dash < 4) continue;
        if (fields[4].empty() || fields[4].front() != '/') continue;
        std::string_view fstype = *(dash + 1);
        std::string_view super_options = *(dash + 3);
        if (fstype == "cgroup2" && mounts.unified.empty()) {
            mounts.unified = unescape_octal(fields[4]);
        } else if (fstype == "cgroup") {
            any_v1 = true;
            std::string options = "," + std::string(super_options) + ",";
            if (options.find(",name=systemd,") != std::string::npos && mounts.named_systemd.empty()) {
                mounts.named_systemd = unescape_octal(fields[4]);
            }
        }
    }
    if (!mounts.unified.empty()) {
        mounts.layout = any_v1 ? CgroupLayout::Hybrid : CgroupLayout::Unified;
    } else if (any_v1) {
        mounts.layout = CgroupLayout::Legacy;
    }
    return mounts;
}

std::string_view layout_name(CgroupLayout layout) noexcept {
    switch (layout) {
        case CgroupLayout::Unified: return "cgroup v2 (unified)";
        case CgroupLayout::Hybrid: return "hybrid (cgroup v1 with a v2 hierarchy)";
        case CgroupLayout::Legacy: return "cgroup v1 only";
        case CgroupLayout::None: return "no cgroup filesystem mounted";
    }
    return "unknown";
}

}  // namespace banger
