#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/proc_stat.hpp"

using namespace banger;

TEST_CASE("stat: recorded processes") {
    auto kthreadd = parse_proc_stat(fixture("stat-kthreadd.txt"));
    REQUIRE(kthreadd.ok());
    CHECK(kthreadd.value().is_kernel_thread());
    CHECK(kthreadd.value().ppid == 0);

    auto init = parse_proc_stat(fixture("stat-init.txt"));
    REQUIRE(init.ok());
    CHECK_FALSE(init.value().is_kernel_thread());

    auto sh = parse_proc_stat(fixture("stat-sh.txt"));
    REQUIRE(sh.ok());
    CHECK_FALSE(sh.value().is_kernel_thread());
    CHECK_FALSE(sh.value().is_dead());
}

TEST_CASE("stat: comm with spaces and ')' is skipped whole") {
    auto s = parse_proc_stat(fixture("stat-paren-comm.txt"));
    REQUIRE(s.ok());
    CHECK(s.value().state == 'S');
    CHECK(s.value().ppid == 1);
    CHECK(s.value().flags == 4194560U);
    CHECK_FALSE(s.value().is_kernel_thread());
    CHECK(s.value().start_time == 12345U);
}

TEST_CASE("stat: zombie") {
    auto s = parse_proc_stat(fixture("stat-zombie.txt"));
    REQUIRE(s.ok());
    CHECK(s.value().is_dead());
}

TEST_CASE("stat: malformed") {
    for (const char* bad : {"", "1 (x)", "1 (x) S", "1 x S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
                            "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0",
                            "1 (x) S one 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"}) {
        CAPTURE(bad);
        auto r = parse_proc_stat(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().outcome == Outcome::SystemError);
    }
}
