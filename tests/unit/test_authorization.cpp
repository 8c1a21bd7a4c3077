#include <doctest/doctest.h>

#include "policy/authorization.hpp"

using namespace banger;

TEST_CASE("polkit: KILL has its own action") {
    CHECK(polkit_action_for(parse_signal("KILL").value()) == "org.banger.signal.kill");
    CHECK(polkit_action_for(parse_signal("sigkill").value()) == "org.banger.signal.kill");
    for (const char* name : {"TERM", "INT", "HUP", "QUIT", "USR1", "USR2", "ABRT"}) {
        CAPTURE(name);
        CHECK(polkit_action_for(parse_signal(name).value()) == "org.banger.signal.send");
    }
}

TEST_CASE("polkit: details") {
    auto d = polkit_details(4242, parse_signal("sigterm").value(), Match::ApiSock, "/s", "/usr/bin/firecracker");
    using P = std::pair<std::string, std::string>;
    CHECK(d == std::vector<P>{{"pid", "4242"}, {"signal", "TERM"}, {"match", "api-sock"}, {"cgroup", "/s"},
                              {"exe", "/usr/bin/firecracker"}});
}

TEST_CASE("pkexec exit statuses") {
    CHECK(map_pkexec_exit(126).code == 7);
    CHECK_FALSE(map_pkexec_exit(126).message.empty());
    CHECK(map_pkexec_exit(127).code == 7);
    CHECK(map_pkexec_exit(127).message.find("group") != std::string::npos);
    for (int code : {0, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
        CAPTURE(code);
        CHECK(map_pkexec_exit(code).code == code);
        CHECK(map_pkexec_exit(code).message.empty());
    }
}
