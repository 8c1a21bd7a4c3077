#include <doctest/doctest.h>

#include <csignal>

#include "policy/signal_name.hpp"

using banger::parse_signal;

TEST_CASE("signal: the allowlist, any case, optional SIG prefix") {
    struct Row {
        const char* text;
        int number;
        const char* name;
    };
    const Row rows[] = {
        {"TERM", SIGTERM, "TERM"},    {"term", SIGTERM, "TERM"},    {"SIGTERM", SIGTERM, "TERM"},
        {"sigTerm", SIGTERM, "TERM"}, {"KILL", SIGKILL, "KILL"},    {"SigKill", SIGKILL, "KILL"},
        {"INT", SIGINT, "INT"},       {"hup", SIGHUP, "HUP"},       {"SIGQUIT", SIGQUIT, "QUIT"},
        {"usr1", SIGUSR1, "USR1"},    {"SIGUSR2", SIGUSR2, "USR2"}, {"abrt", SIGABRT, "ABRT"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        auto s = parse_signal(row.text);
        REQUIRE(s.ok());
        CHECK(s.value().number() == row.number);
        CHECK(s.value().name() == row.name);
    }
}

TEST_CASE("signal: everything else is refused") {
    const char* refused[] = {
        "",      "SIG",    "sig",    "STOP",  "SIGSTOP", "sigstop",  "CONT",    "TSTP",       "TTIN",
        "TTOU",  "CHLD",   "SEGV",   "BUS",   "PIPE",    "ALRM",     "WINCH",   "SYS",        "9",
        "15",    "-9",     "0",      "RTMIN", "RTMIN+1", "SIGRTMAX", "RTMAX-1", "SIGSIGTERM", " TERM",
        "TERM ", "TERM\n", "KILL\n", "TE RM", "TERMX",   "IOT",      "CLD",     "ＴＥＲＭ",
    };
    for (const char* text : refused) {
        CAPTURE(text);
        auto s = parse_signal(text);
        REQUIRE_FALSE(s.ok());
        CHECK(s.failure().outcome == banger::Outcome::SignalRefused);
    }
    CHECK_FALSE(parse_signal(std::string_view("TERM\0", 5)).ok());
}

TEST_CASE("signal: default is TERM; only KILL is_kill") {
    CHECK(banger::default_signal().number() == SIGTERM);
    CHECK_FALSE(banger::default_signal().is_kill());
    CHECK(parse_signal("KILL").value().is_kill());
}
