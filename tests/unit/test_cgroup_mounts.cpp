#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/cgroup_mounts.hpp"

using namespace banger;

TEST_CASE("cgroup mounts: layout from mountinfo") {
    auto hybrid = detect_cgroup_mounts(fixture("mountinfo-hybrid.txt"));
    CHECK(hybrid.layout == CgroupLayout::Hybrid);
    CHECK(hybrid.unified == "/sys/fs/cgroup/unified");
    CHECK(hybrid.named_systemd == "/sys/fs/cgroup/systemd");

    auto unified = detect_cgroup_mounts(fixture("mountinfo-unified.txt"));
    CHECK(unified.layout == CgroupLayout::Unified);
    CHECK(unified.unified == "/sys/fs/cgroup");

    auto legacy = detect_cgroup_mounts(fixture("mountinfo-legacy.txt"));
    CHECK(legacy.layout == CgroupLayout::Legacy);
    CHECK(legacy.unified.empty());
    CHECK(legacy.named_systemd == "/sys/fs/cgroup/systemd");

    CHECK(detect_cgroup_mounts(fixture("mountinfo-escaped.txt")).unified == "/mnt/my cgroups");
    CHECK(detect_cgroup_mounts("").layout == CgroupLayout::None);
    CHECK(detect_cgroup_mounts("garbage line\n- - -\n").layout == CgroupLayout::None);
    CHECK(detect_cgroup_mounts("1 2 3 4 - cgroup2 x rw\n").layout == CgroupLayout::None);  // separator too early
    CHECK(detect_cgroup_mounts("1 2 0:1 / relative rw - cgroup2 x rw\n").layout == CgroupLayout::None);
}
