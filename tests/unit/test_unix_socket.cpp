#include <doctest/doctest.h>

#include <sstream>
#include <vector>

#include "fixture.hpp"
#include "policy/unix_socket.hpp"

using namespace banger;

namespace {
std::vector<UnixSocketLine> parse_all(const std::string& text) {
    std::vector<UnixSocketLine> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (auto e = parse_unix_socket_line(line)) {
            e->path = std::string_view();  // line storage goes away; tests below look at paths directly
            out.push_back(*e);
        }
    }
    return out;
}
}  // namespace

TEST_CASE("net/unix: listening sockets and their paths") {
    auto l = parse_unix_socket_line("0000000000000000: 00000002 00000000 00010000 0001 01 31337 /run/banger/vm1.sock");
    REQUIRE(l.has_value());
    CHECK(l->inode == 31337U);
    CHECK(l->listening);
    CHECK(l->path == "/run/banger/vm1.sock");

    auto connected = parse_unix_socket_line("0000000000000000: 00000003 00000000 00000000 0001 03 31338 /run/banger/vm1.sock");
    REQUIRE(connected.has_value());
    CHECK_FALSE(connected->listening);

    auto padded = parse_unix_socket_line("00000000deadbeef: 00000002 00000000 00010000 0001 01   777 /run/banger/vm2.sock");
    REQUIRE(padded.has_value());
    CHECK(padded->inode == 777U);
    CHECK(padded->path == "/run/banger/vm2.sock");

    auto spaced = parse_unix_socket_line("0000000000000000: 00000002 00000000 00010000 0001 01 40000 /run/banger/with space.sock");
    REQUIRE(spaced.has_value());
    CHECK(spaced->path == "/run/banger/with space.sock");

    auto unnamed = parse_unix_socket_line("00000000b18208b2: 00000003 00000000 00000000 0001 03  1654");
    REQUIRE(unnamed.has_value());
    CHECK(unnamed->path.empty());
}

TEST_CASE("net/unix: recorded files") {
    CHECK(parse_all(fixture("net-unix-sample.txt")).size() == 5);
    auto host = parse_all(fixture("net-unix-host-head.txt"));
    REQUIRE(host.size() == 3);
    CHECK(host[2].inode == 777U);
}

TEST_CASE("net/unix: header and garbage are not sockets") {
    CHECK_FALSE(parse_unix_socket_line("Num       RefCount Protocol Flags    Type St Inode Path").has_value());
    CHECK_FALSE(parse_unix_socket_line("").has_value());
    CHECK_FALSE(parse_unix_socket_line("x: 1 2 3 4 5").has_value());
    CHECK_FALSE(parse_unix_socket_line("0: zz 00000000 00010000 0001 01 5 /p").has_value());
    CHECK_FALSE(parse_unix_socket_line("0: 00000002 00000000 00010000 0001 01 -5 /p").has_value());
}

TEST_CASE("fd links") {
    CHECK(parse_socket_link("socket:[12345]") == 12345U);
    CHECK_FALSE(parse_socket_link("socket:[]").has_value());
    CHECK_FALSE(parse_socket_link("socket:[12a]").has_value());
    CHECK_FALSE(parse_socket_link("/run/banger/vm1.sock").has_value());
    CHECK_FALSE(parse_socket_link("pipe:[12345]").has_value());
    CHECK_FALSE(parse_socket_link("socket:[12345").has_value());
}
