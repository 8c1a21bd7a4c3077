#include <doctest/doctest.h>

#include "policy/duration.hpp"

using namespace banger;
using std::chrono::milliseconds;

TEST_CASE("durations") {
    struct Row {
        const char* text;
        long ms;  // -1: refused
    };
    const Row rows[] = {
        {"0", 0},          {"1", 1000},         {"2.5", 2500},    {"0.25", 250}, {"0.001", 1},
        {"3600", 3600000}, {"3600.0", 3600000}, {"3600.001", -1}, {"3601", -1},  {"99999", -1},
        {"", -1},          {"-1", -1},          {"+1", -1},       {"1e3", -1},   {"0x10", -1},
        {"1.", -1},        {".5", -1},          {"1.2345", -1},   {"01", -1},    {"00.5", -1},
        {" 1", -1},        {"1 ", -1},          {"1s", -1},       {"nan", -1},   {"inf", -1},
        {"1.5.5", -1},     {"0.-1", -1},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        auto r = parse_duration("--wait", row.text);
        if (row.ms >= 0) {
            REQUIRE(r.ok());
            CHECK(r.value() == milliseconds(row.ms));
        } else {
            REQUIRE_FALSE(r.ok());
            CHECK(r.failure().outcome == Outcome::UsageError);
            CHECK(r.failure().reason.find("--wait") == 0);
        }
    }
}
