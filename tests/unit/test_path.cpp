#include <doctest/doctest.h>

#include "policy/path.hpp"

using namespace banger;

TEST_CASE("path: normalized absolute paths") {
    for (const char* ok : {"/", "/run", "/run/banger", "/a/b/c", "/a b/c", "/a:b", "/.hidden", "/a/...", "/a/..b"}) {
        CAPTURE(ok);
        CHECK_FALSE(path_problem(ok).has_value());
    }
    for (const char* bad : {"", "run", "./run", "/run/", "//run", "/run//banger", "/run/./banger", "/run/../etc", "/..",
                            "/.", "/run/banger/.."}) {
        CAPTURE(bad);
        CHECK(path_problem(bad).has_value());
    }
    CHECK(path_problem(std::string_view("/run\0/x", 7)).has_value());
}

TEST_CASE("path: containment is by component, never by substring") {
    CHECK(is_strictly_within("/run/banger/x", "/run/banger"));
    CHECK(is_strictly_within("/run/banger/a/b.sock", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/banger", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/banger-evil/x", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/bangerx", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/banger/../x", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/banger//x", "/run/banger"));
    CHECK_FALSE(is_strictly_within("run/banger/x", "/run/banger"));
    CHECK_FALSE(is_strictly_within("/run/banger/x", "run/banger"));
    CHECK_FALSE(is_strictly_within("/run", "/run/banger"));
    CHECK(is_within_or_equal("/run/banger", "/run/banger"));
    CHECK(is_within_or_equal("/run/banger/x", "/run/banger"));
    CHECK_FALSE(is_within_or_equal("/run/banger-x", "/run/banger"));
}

TEST_CASE("path: base name") {
    CHECK(base_name("/usr/bin/firecracker") == "firecracker");
    CHECK(base_name("firecracker") == "firecracker");
    CHECK(base_name("/usr/bin/") == "");
}
