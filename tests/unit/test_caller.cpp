#include <doctest/doctest.h>

#include "policy/caller.hpp"

using namespace banger;

TEST_CASE("PKEXEC_UID parsing") {
    CHECK(parse_uid("0") == 0U);
    CHECK(parse_uid("1000") == 1000U);
    CHECK(parse_uid("4294967294") == 4294967294U);
    for (const char* bad :
         {"", "-1", "+1", "01", " 1", "1 ", "4294967295", "4294967296", "99999999999", "abc", "1e3"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_uid(bad).has_value());
    }
}

TEST_CASE("caller authorization") {
    Caller root{0, 0, std::nullopt};
    CHECK(decide_mode(root, false, false).mode == Mode::Privileged);
    CHECK(decide_mode(root, false, true).mode == Mode::Privileged);
    CHECK_FALSE(decide_mode(root, false, false).polkit_required);
    CHECK(accountable_uid(root).value() == 0U);

    Caller via_pkexec{0, 0, std::string_view("1000")};
    Decision pkexec = decide_mode(via_pkexec, false, false);
    CHECK(pkexec.mode == Mode::Privileged);
    CHECK(pkexec.polkit_required);
    CHECK(pkexec.caller_uid == 1000U);
    CHECK(accountable_uid(via_pkexec).value() == 1000U);
    Decision config = decide_mode(via_pkexec, false, true);
    REQUIRE(config.mode == Mode::Refuse);
    CHECK(config.refusal->outcome == Outcome::NotAuthorized);
    CHECK(config.caller_uid == 1000U);

    // Anyone but real and effective root never acts; without --config they elevate.
    for (Caller c : {Caller{1000, 1000, std::nullopt}, Caller{1000, 0, std::nullopt}, Caller{0, 1000, std::nullopt}}) {
        CHECK(decide_mode(c, false, false).mode == Mode::Elevate);
        Decision r = decide_mode(c, false, true);
        REQUIRE(r.mode == Mode::Refuse);
        CHECK(r.refusal->outcome == Outcome::NotAuthorized);
    }
    Decision malformed = decide_mode(Caller{0, 0, std::string_view("x")}, false, false);
    REQUIRE(malformed.mode == Mode::Refuse);
    CHECK(malformed.refusal->outcome == Outcome::NotAuthorized);
}

TEST_CASE("mode: pkexec running the helper as another user than root is refused") {
    // pkexec --user bsother: PKEXEC_UID says who asked, but we are not root.
    for (Caller c : {Caller{1001, 1001, std::string_view("1000")}, Caller{1001, 1001, std::string_view("")}}) {
        Decision d = decide_mode(c, false, false);
        REQUIRE(d.mode == Mode::Refuse);
        CHECK(d.refusal->outcome == Outcome::NotAuthorized);
        CHECK(d.refusal->reason.find("only runs as root") != std::string::npos);
    }
}

TEST_CASE("mode: --doctor runs as whoever calls it, never through pkexec") {
    for (Caller c : {Caller{0, 0, std::nullopt}, Caller{1000, 1000, std::nullopt}}) {
        CHECK(decide_mode(c, true, false).mode == Mode::Doctor);
    }
    // pkexec banger-signal --doctor would run it as root, for nothing.
    Decision through_pkexec = decide_mode(Caller{0, 0, std::string_view("5")}, true, false);
    REQUIRE(through_pkexec.mode == Mode::Refuse);
    CHECK(through_pkexec.refusal->outcome == Outcome::NotAuthorized);
    CHECK(through_pkexec.caller_uid == 5U);
}
