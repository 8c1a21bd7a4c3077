#include <doctest/doctest.h>

#include "policy/pid.hpp"

using banger::Outcome;
using banger::parse_pid_number;

TEST_CASE("pid: strict decimal within pid_max") {
    constexpr std::uint32_t kMax = 4194304;
    struct Row {
        const char* text;
        bool ok;
        std::uint32_t value;
    };
    const Row rows[] = {
        {"2", true, 2},           {"1", true, 1},  // parses; refused later as protected
        {"0", true, 0},                            // parses; refused later as protected
        {"12345", true, 12345},   {"4194304", true, 4194304},
        {"4194305", false, 0},    {"", false, 0},
        {"+5", false, 0},         {"-5", false, 0},
        {"-1", false, 0},         {" 5", false, 0},
        {"5 ", false, 0},         {"5\n", false, 0},
        {"0x10", false, 0},       {"1e3", false, 0},
        {"05", false, 0},         {"00", false, 0},
        {"4294967295", false, 0},  // /bin/kill would broadcast this as -1
        {"4294967296", false, 0}, {"99999999999999999999", false, 0},
        {"12a", false, 0},        {"١٢", false, 0},  // non-ASCII digits
        {"5.0", false, 0},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        auto r = parse_pid_number(row.text, kMax);
        CHECK(r.ok() == row.ok);
        if (row.ok) {
            CHECK(r.value() == row.value);
        } else {
            CHECK(r.failure().outcome == Outcome::UsageError);
        }
    }
}

TEST_CASE("pid: the machine's pid_max is the limit") {
    CHECK(parse_pid_number("32768", 32768).ok());
    CHECK_FALSE(parse_pid_number("32769", 32768).ok());
}

TEST_CASE("pid: embedded NUL is not a number") {
    CHECK_FALSE(parse_pid_number(std::string_view("12\0"
                                                  "3",
                                                  4),
                                 4194304)
                    .ok());
}

TEST_CASE("pid_max file") {
    CHECK(banger::parse_pid_max("4194304\n") == 4194304U);
    CHECK(banger::parse_pid_max("32768") == 32768U);
    CHECK_FALSE(banger::parse_pid_max("").has_value());
    CHECK_FALSE(banger::parse_pid_max("99999999999\n").has_value());
    CHECK_FALSE(banger::parse_pid_max("-1\n").has_value());
    CHECK_FALSE(banger::parse_pid_max("1\n").has_value());
    CHECK_FALSE(banger::parse_pid_max("007\n").has_value());
}

TEST_CASE("Pid can never hold 0, 1 or more than PID_MAX_LIMIT") {
    CHECK_FALSE(banger::Pid::from(0).has_value());
    CHECK_FALSE(banger::Pid::from(1).has_value());
    CHECK_FALSE(banger::Pid::from(banger::kPidMaxLimit + 1).has_value());
    REQUIRE(banger::Pid::from(2).has_value());
    CHECK(banger::Pid::from(2)->get() == 2);
}
