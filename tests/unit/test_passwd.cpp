// policy/passwd: the helper user's ids, from the text of /etc/passwd.
#include <doctest/doctest.h>

#include <string>

#include "policy/passwd.hpp"

using namespace banger;

namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "banger-signal-old:x:900:900::/:/usr/sbin/nologin\n"
    "banger-signal:x:990:991:banger-signal while it works:/:/usr/sbin/nologin\n"
    "banger-signal:x:995:995:a later duplicate:/:/usr/sbin/nologin\n"
    "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";

std::optional<PasswdEntry> one_line(const std::string& line) { return find_passwd_entry(line, "banger-signal"); }

}  // namespace

TEST_CASE("passwd: the first line with the exact name gives uid and gid") {
    auto e = find_passwd_entry(kPasswd, "banger-signal");
    REQUIRE(e);
    CHECK(e->uid == 990);
    CHECK(e->gid == 991);
    auto root = find_passwd_entry(kPasswd, "root");
    REQUIRE(root);
    CHECK(root->uid == 0);
    auto last = find_passwd_entry("alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash", "alice");  // no final '\n'
    REQUIRE(last);
    CHECK(last->gid == 1000);
}

TEST_CASE("passwd: a name is matched whole, never as a prefix or a part") {
    CHECK_FALSE(find_passwd_entry(kPasswd, "banger"));
    CHECK_FALSE(find_passwd_entry(kPasswd, "banger-signal-o"));
    CHECK_FALSE(find_passwd_entry(kPasswd, "lice"));
    CHECK_FALSE(find_passwd_entry(kPasswd, "x"));
    CHECK_FALSE(find_passwd_entry(kPasswd, "990"));
    CHECK_FALSE(find_passwd_entry(kPasswd, "nobody"));
    CHECK_FALSE(find_passwd_entry(kPasswd, ""));
    CHECK_FALSE(find_passwd_entry(kPasswd, "root:x"));
    CHECK_FALSE(find_passwd_entry("", "banger-signal"));
    // NIS compat entries name no local user.
    CHECK_FALSE(find_passwd_entry("+banger-signal:x:990:990::/:/usr/sbin/nologin\n", "banger-signal"));
    CHECK_FALSE(find_passwd_entry("+\n-banger-signal\n", "banger-signal"));
}

TEST_CASE("passwd: a malformed entry is no user, and no later line stands in for it") {
    for (const char* line : {
             "banger-signal:x:990:990::/\n",                          // six fields
             "banger-signal:x:990:990::/:/usr/sbin/nologin:extra\n",  // eight
             "banger-signal:x:990\n",
             "banger-signal:\n",
             "banger-signal:x::990::/:/usr/sbin/nologin\n",  // empty uid
             "banger-signal:x:990::::/usr/sbin/nologin\n",   // empty gid
             "banger-signal:x:-1:990::/:/usr/sbin/nologin\n",
             "banger-signal:x:+990:990::/:/usr/sbin/nologin\n",
             "banger-signal:x: 990:990::/:/usr/sbin/nologin\n",
             "banger-signal:x:990 :990::/:/usr/sbin/nologin\n",
             "banger-signal:x:0x3de:990::/:/usr/sbin/nologin\n",
             "banger-signal:x:990:99o::/:/usr/sbin/nologin\n",
             "banger-signal:x:4294967295:990::/:/usr/sbin/nologin\n",  // (uid_t)-1
             "banger-signal:x:990:4294967295::/:/usr/sbin/nologin\n",
             "banger-signal:x:4294967296:990::/:/usr/sbin/nologin\n",  // beyond 32 bits
             "banger-signal:x:99999999999999999999:990::/:/usr/sbin/nologin\n",
         }) {
        CAPTURE(line);
        CHECK_FALSE(one_line(line));
        CHECK_FALSE(one_line(std::string(line) + "banger-signal:x:995:995::/:/usr/sbin/nologin\n"));
    }
}

TEST_CASE("passwd: the largest ids are taken as they are") {
    auto e = one_line("banger-signal:x:4294967294:4294967294::/:/usr/sbin/nologin\n");
    REQUIRE(e);
    CHECK(e->uid == 4294967294U);
    auto zero_padded = one_line("banger-signal:x:0990:0991::/:/usr/sbin/nologin\n");
    REQUIRE(zero_padded);
    CHECK(zero_padded->uid == 990);
}

TEST_CASE("passwd: the helper's account is no one's to log into") {
    auto e = find_passwd_entry(kPasswd, "banger-signal");
    REQUIRE(e);
    CHECK(e->home == "/");
    CHECK(e->shell == "/usr/sbin/nologin");
    CHECK(e->password == "x");
    // As systemd-sysusers makes it: locked, nologin, home /.
    CHECK_FALSE(login_problem(*e, std::string_view("!*"), true));
    CHECK_FALSE(login_problem(*e, std::nullopt, true));  // no line in /etc/shadow
    for (const char* shell : {"/sbin/nologin", "/bin/false", "/usr/bin/false"}) {
        PasswdEntry other = *e;
        other.shell = shell;
        CHECK_FALSE(login_problem(other, std::string_view("!"), true));
    }
    struct Row {
        const char* what;
        PasswdEntry entry;
        std::optional<std::string_view> shadow;
        bool home_exists;
    };
    auto with = [&](auto change) {
        PasswdEntry copy = *e;
        change(copy);
        return copy;
    };
    const Row rows[] = {
        {"shell", with([](PasswdEntry& x) { x.shell = "/bin/bash"; }), std::nullopt, true},
        {"shell", with([](PasswdEntry& x) { x.shell = ""; }), std::nullopt, true},  // the default shell
        {"password in /etc/shadow", *e, std::string_view("$y$j9T$abc$def"), true},
        {"empty password", *e, std::string_view(""), true},
        {"password in /etc/passwd", with([](PasswdEntry& x) { x.password = "$6$salt$hash"; }), std::nullopt, true},
        {"password in /etc/passwd", with([](PasswdEntry& x) { x.password = ""; }), std::nullopt, true},
        {"home", with([](PasswdEntry& x) { x.home = "/home/banger-signal"; }), std::string_view("!"), true},
    };
    for (const Row& row : rows) {
        CAPTURE(row.what);
        auto problem = login_problem(row.entry, row.shadow, row.home_exists);
        REQUIRE(problem);
        CHECK(problem->find(row.what == std::string("empty password") ? "empty password" : row.what) !=
              std::string::npos);
    }
    // A home that does not exist is none.
    CHECK_FALSE(login_problem(with([](PasswdEntry& x) { x.home = "/nonexistent"; }), std::nullopt, false));
}

TEST_CASE("passwd: the password field of /etc/shadow") {
    const std::string shadow = "root:$y$abc:19000:0:99999:7:::\nbanger-signal-old:x:1\nbanger-signal:!*:19000::::::\n";
    CHECK(find_shadow_password(shadow, "banger-signal") == "!*");
    CHECK(find_shadow_password(shadow, "root") == "$y$abc");
    CHECK_FALSE(find_shadow_password(shadow, "banger"));
    CHECK_FALSE(find_shadow_password("banger-signal", "banger-signal"));
    CHECK(find_shadow_password("banger-signal::", "banger-signal") == "");
}
