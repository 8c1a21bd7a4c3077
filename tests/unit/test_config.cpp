#include <doctest/doctest.h>

#include "policy/config.hpp"

using namespace banger;

TEST_CASE("config: defaults, overrides, ignored keys") {
    auto empty = parse_config("", "t.toml");
    REQUIRE(empty.ok());
    CHECK(empty.value().runtime_dir == "/run/banger");
    CHECK(empty.value().service_cgroup == "/system.slice/bangerd-root.service");

    auto full = parse_config(R"(
version = 3
runtime_dir = "/var/run/banger2"
service_cgroup = "/banger.slice/bangerd-root.service"
[vm]
kernel = "/boot/vmlinux"
)",
                             "t.toml");
    REQUIRE(full.ok());
    CHECK(full.value().runtime_dir == "/var/run/banger2");
    CHECK(full.value().service_cgroup == "/banger.slice/bangerd-root.service");
}

TEST_CASE("config: invalid values are configuration errors") {
    const char* bad[] = {
        "runtime_dir = \"run/banger\"",
        "runtime_dir = \"/run/banger/\"",
        "runtime_dir = \"/run//banger\"",
        "runtime_dir = \"/run/../banger\"",
        "runtime_dir = \"/\"",
        "runtime_dir = \"\"",
        "runtime_dir = \"/run/banger\\u0000x\"",
        "runtime_dir = \"/run/ban\\nger\"",
        "service_cgroup = \"/\"",
        "service_cgroup = \"/system.slice/./x\"",
        "service_cgroup = 5",
        "service_cgroup = [\"/a\"]",
        "runtime_dir = true",
        "runtime_dir = \"/a\"\nruntime_dir = \"/b\"",  // duplicate key: invalid TOML
        "this is not toml",
        "runtime_dir = \"/a",
        "[[[",  // toml++ 3.3 trips its own assertion here
        "[[",
        "[",
        "a.[",
        "[\n",
        "sp = [\"/a\",}",
        "k\u02dd = 1",                     // toml++ 3.3 reaches "unreachable" on some non-ASCII
        "# comment \xc3\xa9\n",            // any non-ASCII byte is refused
        "runtime_dir = \"/run/\\u00e1\"",  // ... and so is an escape that decodes to one
    };
    for (const char* text : bad) {
        CAPTURE(text);
        auto r = parse_config(text, "t.toml");
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().outcome == Outcome::ConfigError);
        CHECK(r.failure().reason.find("t.toml") != std::string::npos);  // names the file
    }
}

TEST_CASE("config: a very long value is refused") {
    std::string text = "runtime_dir = \"/" + std::string(2000, 'a') + "\"";
    CHECK_FALSE(parse_config(text, "t.toml").ok());
}
