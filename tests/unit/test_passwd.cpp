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
