// policy/proc_status: the credentials of /proc/<pid>/status, and what is too
// much privilege for the working helper.
#include <doctest/doctest.h>

#include <linux/capability.h>

#include <string>

#include "policy/proc_status.hpp"

using namespace banger;

namespace {

// The fields the parser reads, as a 6.1 kernel prints them for the working
// helper (uid and gid 990, CAP_DAC_READ_SEARCH, CAP_KILL, CAP_SYS_PTRACE).
std::string status(const std::string& seccomp = "2", const std::string& uid = "990\t990\t990\t990",
                   const std::string& groups = "", const std::string& cap_eff = "0000000000080024",
                   const std::string& nnp = "1") {
    return "Name:\tbanger-signal\nUmask:\t0077\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
           "Uid:\t" +
           uid + "\nGid:\t990\t990\t990\t990\nFDSize:\t64\nGroups:\t" + groups +
           "\nCapInh:\t0000000000000000\nCapPrm:\t0000000000080024\nCapEff:\t" + cap_eff +
           "\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t" + nnp + "\nSeccomp:\t" + seccomp +
           "\nSeccomp_filters:\t1\nSpeculation_Store_Bypass:\tthread vulnerable\n";
}

constexpr std::uint64_t kAllowed =
    (std::uint64_t{1} << CAP_KILL) | (std::uint64_t{1} << CAP_SYS_PTRACE) | (std::uint64_t{1} << CAP_DAC_READ_SEARCH);

}  // namespace

TEST_CASE("proc_status: the working helper's thread parses and passes") {
    auto c = parse_status_credentials(status());
    REQUIRE(c);
    CHECK(c->uids[3] == 990);
    CHECK(c->gids[0] == 990);
    CHECK(c->groups.empty());
    CHECK(c->cap_effective == kAllowed);
    CHECK(c->no_new_privs);
    CHECK(c->seccomp == 2);
    CHECK_FALSE(excess_privilege(*c, 990, 990, kAllowed));
    CHECK_FALSE(unconfined(*c));
}

TEST_CASE("proc_status: what is too much") {
    struct Row {
        std::string text;
        const char* why;
    };
    const Row rows[] = {
        {status("2", "990\t0\t990\t990"), "uids"},
        {status("2", "990\t990\t990\t990", "0 27"), "supplementary"},
        {status("2", "990\t990\t990\t990", "", "0000000000080025"), "capabilities"},
        {status("2", "990\t990\t990\t990", "", "0000000000080024", "0"), "no_new_privs"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.why);
        auto c = parse_status_credentials(row.text);
        REQUIRE(c);
        auto excess = excess_privilege(*c, 990, 990, kAllowed);
        REQUIRE(excess);
        CHECK(excess->find(row.why) != std::string::npos);
    }
}

TEST_CASE("proc_status: a thread outside the seccomp filter is told") {
    for (const char* mode : {"0", "1"}) {
        CAPTURE(mode);
        auto c = parse_status_credentials(status(mode));
        REQUIRE(c);
        CHECK_FALSE(excess_privilege(*c, 990, 990, kAllowed));
        auto why = unconfined(*c);
        REQUIRE(why);
        CHECK(*why == std::string("seccomp mode ") + mode + ", not a filter");
    }
}

TEST_CASE("proc_status: missing or malformed fields are never guessed") {
    const std::string good = status();
    for (const char* field : {"Uid:", "Gid:", "Groups:", "CapPrm:", "CapEff:", "CapBnd:", "NoNewPrivs:", "Seccomp:"}) {
        CAPTURE(field);
        std::string text = good;
        const auto at = text.find(std::string("\n") + field);
        REQUIRE(at != std::string::npos);
        text.replace(at + 1, std::string(field).size(), "Xx:");
        CHECK_FALSE(parse_status_credentials(text));
    }
    CHECK_FALSE(parse_status_credentials(status("3")));
    CHECK_FALSE(parse_status_credentials(status("22")));
    CHECK_FALSE(parse_status_credentials(status("2", "990\t990\t990")));
    CHECK_FALSE(parse_status_credentials(status("2", "990\t990\t990\t990", "", "zz")));
}

TEST_CASE("proc_status: each field is its own line's, the first of its key") {
    // A key is what comes before the line's first colon: a longer key that
    // starts with it (Seccomp_filters) or a value that names it (Name) is not it.
    std::string text = "Seccomp_filters:\t1\nName:\tUid:\t0\t0\t0\t0\n" + status("1");
    // The kernel prints each key once; should a second line follow, the first stands.
    text += "CapEff:\t000001ffffffffff\nSeccomp:\t2\n";
    auto c = parse_status_credentials(text);
    REQUIRE(c);
    CHECK(c->uids[0] == 990);
    CHECK(c->seccomp == 1);
    CHECK(c->cap_effective == kAllowed);
}

TEST_CASE("proc_status: the socket door's instance may keep the working capabilities bounded, no more") {
    std::string text = status();
    const auto at = text.find("CapBnd:\t0000000000000000");
    REQUIRE(at != std::string::npos);
    text.replace(at, 24, "CapBnd:\t0000000000080024");
    auto c = parse_status_credentials(text);
    REQUIRE(c);
    CHECK(excess_privilege(*c, 990, 990, kAllowed));                  // the pkexec door: empty, always
    CHECK_FALSE(excess_privilege(*c, 990, 990, kAllowed, kAllowed));  // the instance
    text.replace(at, 24, "CapBnd:\t00000000000800e4");                // CAP_SETUID, CAP_SETGID too
    c = parse_status_credentials(text);
    REQUIRE(c);
    auto excess = excess_privilege(*c, 990, 990, kAllowed, kAllowed);
    REQUIRE(excess);
    CHECK(excess->find("bounding 00000000000800e4") != std::string::npos);
    // Ambient capabilities (how systemd hands them over) must be gone once it works.
    text = status();
    text.replace(text.find("CapAmb:\t0000000000000000"), 24, "CapAmb:\t0000000000080024");
    c = parse_status_credentials(text);
    REQUIRE(c);
    CHECK(excess_privilege(*c, 990, 990, kAllowed, kAllowed));
}
