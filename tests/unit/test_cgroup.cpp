#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/cgroup.hpp"

using namespace banger;

namespace {
constexpr std::string_view kService = "/system.slice/bangerd-root.service";
}

TEST_CASE("cgroup file: which line is used") {
    struct Row {
        const char* fixture_name;
        const char* path;  // nullptr: refused
    };
    const Row rows[] = {
        {"cgroup-v2-service-child.txt", "/system.slice/bangerd-root.service/vm-1"},
        {"cgroup-hybrid-service.txt", "/fixture-rec/system.slice/bangerd-root.service"},
        {"cgroup-hybrid-root.txt", "/"},                                              // 0::/ and name=systemd:/ -> "/"
        {"cgroup-hybrid-systemd-service.txt", "/system.slice/bangerd-root.service"},  // 0::/ falls back
        {"cgroup-hybrid-v2-wins.txt", "/user.slice"},  // a real v2 path is never overridden
        {"cgroup-v1-only.txt", "/system.slice/bangerd-root.service"},
        {"cgroup-v2-colons.txt", "/system.slice/bangerd-root.service/a:b:c"},
        {"cgroup-v2-user-spoof.txt", "/user.slice/user-1000.slice/user@1000.service/app.slice/bangerd-root.service"},
        {"cgroup-v1-no-systemd.txt", nullptr},
        {"cgroup-empty.txt", nullptr},
        {"cgroup-v2-outside-namespace.txt", nullptr},
        {"cgroup-v2-deleted.txt", nullptr},
        {"cgroup-v2-duplicate.txt", nullptr},
    };
    for (const auto& row : rows) {
        CAPTURE(row.fixture_name);
        auto r = select_cgroup_path(fixture(row.fixture_name));
        if (row.path) {
            REQUIRE(r.ok());
            CHECK(r.value() == row.path);
        } else {
            REQUIRE_FALSE(r.ok());
            CHECK(r.failure().outcome == Outcome::NotManaged);
        }
    }
}

TEST_CASE("cgroup file: hostile shapes") {
    CHECK_FALSE(select_cgroup_path("0::/..\n").ok());
    CHECK_FALSE(select_cgroup_path("0::/../x\n").ok());
    CHECK(select_cgroup_path("0::/..x\n").ok());  // a name that merely starts with ".."
    CHECK_FALSE(select_cgroup_path("0::relative\n").ok());
    CHECK_FALSE(select_cgroup_path("0::\n").ok());
    CHECK_FALSE(select_cgroup_path("0::/a//b\n").ok());
    CHECK_FALSE(select_cgroup_path("garbage\n0::/a\n").ok());
    CHECK_FALSE(select_cgroup_path("0::/x (deleted)\n").ok());
    CHECK_FALSE(select_cgroup_path(std::string("0::/a\0b\n", 8)).ok());
    CHECK(select_cgroup_path("0::/x (deleted) \n").ok());  // not the kernel's suffix
    CHECK(select_cgroup_path("0::/a\n").value() == "/a");  // no trailing newline kept
    CHECK(select_cgroup_path("0::/a").value() == "/a");    // no final newline at all
    // name=systemd must be the whole controller list, not a substring of it.
    CHECK_FALSE(select_cgroup_path("1:name=systemdx:/system.slice/bangerd-root.service\n").ok());
    // A huge path is parsed, not truncated.
    std::string deep = "0::";
    for (int i = 0; i < 2000; ++i) deep += "/d";
    CHECK(select_cgroup_path(deep + "\n").value().size() == 4000);
}

TEST_CASE("cgroup: component match, never substring") {
    CHECK(is_within_cgroup("/system.slice/bangerd-root.service", kService));
    CHECK(is_within_cgroup("/system.slice/bangerd-root.service/vm-1", kService));
    CHECK(is_within_cgroup("/system.slice/bangerd-root.service/a/b/c", kService));
    CHECK_FALSE(is_within_cgroup("/system.slice/bangerd-root.service-x", kService));
    CHECK_FALSE(is_within_cgroup("/system.slice/bangerd-root.servicex/vm", kService));
    CHECK_FALSE(
        is_within_cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/bangerd-root.service", kService));
    CHECK_FALSE(is_within_cgroup("/system.slice", kService));
    CHECK_FALSE(is_within_cgroup("/", kService));
    CHECK_FALSE(is_within_cgroup("/x/system.slice/bangerd-root.service", kService));
    CHECK_FALSE(is_within_cgroup("/anything", "/"));  // "/" never accepts everything
}
