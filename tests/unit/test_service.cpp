#include <doctest/doctest.h>

#include "policy/service.hpp"

using namespace banger;

TEST_CASE("service: the unit of a service cgroup") {
    CHECK(service_unit("/system.slice/bangerd-root.service") == "bangerd-root.service");
    CHECK(service_unit("/banger-e2e-1/system.slice/bangerd-root.service") == "bangerd-root.service");
    for (const char* none : {"/system.slice/bangerd.scope", "/banger", "/system.slice/.service", "/x.service/vms"}) {
        CAPTURE(none);
        CHECK_FALSE(service_unit(none).has_value());
    }
}

TEST_CASE("service: only PID 1's children can be a service's own processes") {
    CHECK(may_be_service_process(1));
    for (std::int64_t ppid : {0, 2, 4242}) CHECK_FALSE(may_be_service_process(ppid));
}

TEST_CASE("service: its main and control process are protected, nothing else") {
    const ServiceProcesses own{100, 200};
    auto main = refuse_service_process(100, own, "bangerd-root.service");
    REQUIRE(main.has_value());
    CHECK(main->outcome == Outcome::Protected);
    CHECK(main->reason.find("main process of bangerd-root.service") != std::string::npos);
    auto control = refuse_service_process(200, own, "bangerd-root.service");
    REQUIRE(control.has_value());
    CHECK(control->reason.find("control process") != std::string::npos);
    CHECK_FALSE(refuse_service_process(300, own, "bangerd-root.service").has_value());
    // No main or control process (0): nothing matches, not even pid 0.
    CHECK_FALSE(refuse_service_process(0, ServiceProcesses{}, "x.service").has_value());
    CHECK_FALSE(refuse_service_process(100, ServiceProcesses{}, "x.service").has_value());
}
