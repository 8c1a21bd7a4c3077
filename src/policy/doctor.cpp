#include "policy/doctor.hpp"

#include <algorithm>

#include <fmt/format.h>

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

std::optional<std::string> policy_exec_path(std::string_view xml, std::string_view action_id) {
    const std::string open = fmt::format("<action id=\"{}\">", action_id);
    std::size_t start = xml.find(open);
    if (start == std::string_view::npos) return std::nullopt;
    std::size_t end = xml.find("</action>", start);
    std::string_view action = xml.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    constexpr std::string_view kKey = "<annotate key=\"org.freedesktop.policykit.exec.path\">";
    std::size_t key = action.find(kKey);
    if (key == std::string_view::npos) return std::nullopt;
    std::string_view rest = action.substr(key + kKey.size());
    std::size_t close = rest.find("</annotate>");
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view value = rest.substr(0, close);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\n' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\t')) value.remove_suffix(1);
    return std::string(value);
}

std::string format_doctor_line(const DoctorLine& line) {
    std::string_view tag = line.level == Level::Ok ? "OK  " : line.level == Level::Warn ? "WARN" : "FAIL";
    std::string out = fmt::format("{}  {}: {}", tag, line.check, line.detail);
    if (!line.fix.empty()) out += fmt::format("\n      fix: {}", line.fix);
    return out;
}

bool any_failed(const std::vector<DoctorLine>& lines) noexcept {
    return std::any_of(lines.begin(), lines.end(), [](const DoctorLine& l) { return l.level == Level::Fail; });
}

}  // namespace banger
