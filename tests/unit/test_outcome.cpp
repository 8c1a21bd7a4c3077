#include <doctest/doctest.h>

#include <set>
#include <string>

#include "policy/outcome.hpp"

using namespace banger;

TEST_CASE("outcome table: codes are the contract") {
    CHECK(exit_code(Outcome::Delivered) == 0);
    CHECK(exit_code(Outcome::UsageError) == 2);
    CHECK(exit_code(Outcome::NoSuchProcess) == 3);
    CHECK(exit_code(Outcome::NotManaged) == 4);
    CHECK(exit_code(Outcome::SignalRefused) == 5);
    CHECK(exit_code(Outcome::Protected) == 6);
    CHECK(exit_code(Outcome::NotAuthorized) == 7);
    CHECK(exit_code(Outcome::ConfigError) == 8);
    CHECK(exit_code(Outcome::SystemError) == 9);
    CHECK(exit_code(Outcome::StillRunning) == 10);
}

TEST_CASE("outcome table: every outcome has its own entry, never 1/126/127") {
    const Outcome all[] = {Outcome::Delivered,     Outcome::UsageError,  Outcome::NoSuchProcess, Outcome::NotManaged,
                           Outcome::SignalRefused, Outcome::Protected,   Outcome::NotAuthorized, Outcome::ConfigError,
                           Outcome::SystemError,   Outcome::StillRunning};
    std::set<int> codes;
    std::set<std::string> names;
    for (Outcome o : all) {
        CHECK(info(o).outcome == o);  // the lookup found this outcome's own row
        codes.insert(info(o).exit_code);
        names.insert(std::string(info(o).name));
        CHECK(info(o).exit_code != 1);
        CHECK(info(o).exit_code != 126);
        CHECK(info(o).exit_code != 127);
    }
    CHECK(codes.size() == std::size(all));
    CHECK(names.size() == std::size(all));
}

TEST_CASE("outcome table: the help text lists every code") {
    std::string table(exit_code_table());
    for (const char* code : {" 0 ", " 2 ", " 3 ", " 4 ", " 5 ", " 6 ", " 7 ", " 8 ", " 9 ", "10 "}) {
        CAPTURE(code);
        CHECK(table.find(code) != std::string::npos);
    }
}

TEST_CASE("outcome table: the help text is the table, one line per outcome in code order") {
    const std::string table = exit_code_table();
    std::string expected;
    for (Outcome o : {Outcome::Delivered, Outcome::UsageError, Outcome::NoSuchProcess, Outcome::NotManaged,
                      Outcome::SignalRefused, Outcome::Protected, Outcome::NotAuthorized, Outcome::ConfigError,
                      Outcome::SystemError, Outcome::StillRunning}) {
        const std::string code = std::to_string(info(o).exit_code);
        expected += std::string(3 - code.size(), ' ') + code + "  " + std::string(info(o).meaning) + "\n";
    }
    CHECK(table.substr(0, expected.size()) == expected);
}
