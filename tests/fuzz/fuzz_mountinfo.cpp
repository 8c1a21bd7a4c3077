// /proc/self/mountinfo as --doctor reads it: detect_cgroup_mounts.
#include <cstdint>
#include <cstdio>
#include <string>

#include "fuzz_check.hpp"
#include "policy/cgroup_mounts.hpp"

using namespace banger;

namespace {

// Mount points as the kernel escapes them (fs/proc_namespace.c: " \t\n\\").
std::string escape(std::string_view path) {
    std::string out;
    for (char c : path) {
        if (c == ' ' || c == '\t' || c == '\n' || c == '\\') {
            char octal[5];
            std::snprintf(octal, sizeof octal, "\\%03o", static_cast<unsigned>(static_cast<unsigned char>(c)));
            out += octal;
        } else {
            out += c;
        }
    }
    return out;
}

// A mountinfo that has the mounts `m` describes, and nothing else.
std::string printed(const CgroupMounts& m) {
    std::string text = "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n";
    if (!m.unified.empty()) {
        text += "30 22 0:26 / " + escape(m.unified) + " rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n";
    }
    if (!m.named_systemd.empty()) {
        text += "31 22 0:27 / " + escape(m.named_systemd) + " rw shared:5 - cgroup cgroup rw,xattr,name=systemd\n";
    }
    if (m.layout == CgroupLayout::Hybrid || m.layout == CgroupLayout::Legacy) {
        text += "32 22 0:28 / /sys/fs/cgroup/cpu rw shared:6 - cgroup cgroup rw,cpu,cpuacct\n";
    }
    return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    const CgroupMounts m = detect_cgroup_mounts(text);

    // The layout agrees with what was found.
    switch (m.layout) {
        case CgroupLayout::Unified: FUZZ_REQUIRE(!m.unified.empty() && m.named_systemd.empty()); break;
        case CgroupLayout::Hybrid: FUZZ_REQUIRE(!m.unified.empty()); break;
        case CgroupLayout::Legacy: FUZZ_REQUIRE(m.unified.empty()); break;
        case CgroupLayout::None: FUZZ_REQUIRE(m.unified.empty() && m.named_systemd.empty()); break;
    }
    FUZZ_REQUIRE(!layout_name(m.layout).empty());
    // Unescaping only ever shortens.
    FUZZ_REQUIRE(m.unified.size() <= text.size() && m.named_systemd.size() <= text.size());

    // Escaped again as the kernel would, the mounts read back the same. Only
    // for absolute mount points, the only kind the kernel prints: on a
    // malformed line whose " - " separator comes early, the parser takes the
    // "-" itself (or another field) as the mount point.
    if (!m.unified.empty() && m.unified.front() != '/') return 0;
    if (!m.named_systemd.empty() && m.named_systemd.front() != '/') return 0;
    const CgroupMounts again = detect_cgroup_mounts(printed(m));
    FUZZ_REQUIRE(again.layout == m.layout && again.unified == m.unified && again.named_systemd == m.named_systemd);
    return 0;
}
