#include <doctest/doctest.h>

#include "policy/caller.hpp"

using namespace banger;

TEST_CASE("PKEXEC_UID parsing") {
    CHECK(parse_uid("0") == 0U);
    CHECK(parse_uid("1000") == 1000U);
    CHECK(parse_uid("4294967294") == 4294967294U);
    for (const char* bad : {"", "-1", "+1", "01", " 1", "1 ", "4294967295", "4294967296", "99999999999", "abc", "1e3"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_uid(bad).has_value());
    }
}

TEST_CASE("caller authorization") {
    Caller root{0, 0, 100, std::nullopt};
    CHECK(authorize_caller(root, false).ok());
    CHECK(authorize_caller(root, true).ok());
    CHECK(accountable_uid(root).value() == 0U);

    Caller via_pkexec{0, 0, 100, std::string_view("1000")};
    CHECK(authorize_caller(via_pkexec, false).ok());
    CHECK(accountable_uid(via_pkexec).value() == 1000U);
    auto config = authorize_caller(via_pkexec, true);
    REQUIRE_FALSE(config.ok());
    CHECK(config.failure().outcome == Outcome::NotAuthorized);

    for (Caller c : {Caller{1000, 1000, 1, std::nullopt}, Caller{1000, 0, 1, std::nullopt},
                     Caller{0, 1000, 1, std::nullopt}, Caller{0, 0, 1, std::string_view("x")}}) {
        auto r = authorize_caller(c, false);
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().outcome == Outcome::NotAuthorized);
    }
}
