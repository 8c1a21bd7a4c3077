#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/cmdline.hpp"

using namespace banger;

TEST_CASE("cmdline: NUL splitting") {
    using V = std::vector<std::string_view>;
    CHECK(split_cmdline("").empty());
    CHECK(split_cmdline(std::string_view("a\0", 2)) == V{"a"});
    CHECK(split_cmdline(std::string_view("a\0b\0", 4)) == V{"a", "b"});
    CHECK(split_cmdline(std::string_view("a\0\0b\0", 5)) == V{"a", "", "b"});
    CHECK(split_cmdline("no nul at all") == V{"no nul at all"});
    CHECK(split_cmdline(std::string_view("a\0tail", 6)) == V{"a", "tail"});
}

TEST_CASE("cmdline: api socket flag forms") {
    struct Row {
        const char* fixture_name;
        const char* sock;  // nullptr: refused
    };
    const Row rows[] = {
        {"cmdline-api-sock-space.bin", "/run/banger/vm1.sock"},
        {"cmdline-api-sock-eq.bin", "/run/banger/vm1.sock"},
        {"cmdline-api-sock-short.bin", "/run/banger/vm1.sock"},
        {"cmdline-api-sock-twice.bin", nullptr},
        {"cmdline-api-sock-novalue.bin", nullptr},
        {"cmdline-rewritten-no-nul.bin", nullptr},  // one argument: nothing after argv[0]
    };
    for (const auto& row : rows) {
        CAPTURE(row.fixture_name);
        auto r = find_api_sock(split_cmdline(fixture(row.fixture_name)));
        if (row.sock) {
            REQUIRE(r.ok());
            CHECK(r.value() == row.sock);
        } else {
            REQUIRE_FALSE(r.ok());
            CHECK(r.failure().outcome == Outcome::NotManaged);
        }
    }
}

TEST_CASE("cmdline: argv[0] is never a flag, and look-alikes are not flags") {
    using V = std::vector<std::string_view>;
    CHECK_FALSE(find_api_sock(V{"--api-sock=/run/banger/x"}).ok());
    CHECK_FALSE(find_api_sock(V{"firecracker", "--api-sockx", "/run/banger/x"}).ok());
    CHECK_FALSE(find_api_sock(V{"firecracker", "-ab", "/run/banger/x"}).ok());
    CHECK_FALSE(find_api_sock(V{"firecracker", "--api-sock=/a", "--api-sock=/b"}).ok());
    CHECK_FALSE(find_api_sock(V{"firecracker", "-a", "/a", "--api-sock", "/a"}).ok());  // even if equal
    CHECK(find_api_sock(V{"firecracker", "--api-sock="}).value().empty());              // judged later as not absolute
    CHECK(find_api_sock(V{"firecracker", "--id", "x", "-a", "/run/banger/x"}).value() == "/run/banger/x");
}

TEST_CASE("cmdline: 10000 arguments") {
    std::string bytes = std::string("firecracker") + '\0';
    for (int i = 0; i < 10000; ++i) bytes += std::string("--x") + '\0';
    bytes += std::string("--api-sock=/run/banger/x") + '\0';
    auto args = split_cmdline(bytes);
    CHECK(args.size() == 10002);
    CHECK(find_api_sock(args).value() == "/run/banger/x");
}
