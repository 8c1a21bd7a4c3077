#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/doctor.hpp"

using namespace banger;

TEST_CASE("doctor: exec.path of the gate action") {
    const std::string xml = R"(<policyconfig>
  <action id="org.banger.signal.send"><annotate key="org.freedesktop.policykit.exec.path">/wrong</annotate></action>
  <action id="org.banger.signal.run">
    <defaults><allow_any>no</allow_any></defaults>
    <annotate key="org.freedesktop.policykit.exec.path">/usr/local/bin/banger-signal</annotate>
  </action>
</policyconfig>)";
    CHECK(policy_exec_path(xml, "org.banger.signal.run") == "/usr/local/bin/banger-signal");
    CHECK(policy_exec_path(xml, "org.banger.signal.send") == "/wrong");
    CHECK_FALSE(policy_exec_path(xml, "org.banger.signal.kill").has_value());
    CHECK_FALSE(
        policy_exec_path("<action id=\"org.banger.signal.run\"></action>", "org.banger.signal.run").has_value());
}

TEST_CASE("doctor: lines and verdict") {
    std::vector<DoctorLine> lines{{Level::Ok, "a", "fine", ""}, {Level::Warn, "b", "meh", "do x"}};
    CHECK_FALSE(any_failed(lines));
    CHECK(format_doctor_line(lines[0]) == "OK    a: fine");
    CHECK(format_doctor_line(lines[1]) == "WARN  b: meh\n      fix: do x");
    lines.push_back({Level::Fail, "c", "broken", "fix it"});
    CHECK(any_failed(lines));
    CHECK(format_doctor_line(lines[2]).rfind("FAIL  c: broken", 0) == 0);
}

TEST_CASE("doctor: an action's owner annotation") {
    const std::string xml =
        "<action id=\"org.banger.signal.send\">\n<defaults/>\n"
        "<annotate key=\"org.freedesktop.policykit.owner\"> unix-user:banger-signal </annotate>\n</action>\n"
        "<action id=\"org.banger.signal.kill\">\n</action>\n";
    CHECK(policy_annotation(xml, "org.banger.signal.send", "org.freedesktop.policykit.owner") ==
          "unix-user:banger-signal");
    // Another action's annotation is not this one's.
    CHECK_FALSE(policy_annotation(xml, "org.banger.signal.kill", "org.freedesktop.policykit.owner").has_value());
    CHECK_FALSE(policy_annotation(xml, "org.banger.signal.send", "org.freedesktop.policykit.exec.path").has_value());
}

TEST_CASE("doctor: which door this user's calls take, and why") {
    using banger::DoorFacts;
    using banger::Level;
    const auto line = [](DoorFacts f) { return banger::door_line(f, "/run/banger-signal/io.banger.Signal"); };
    auto l = line(DoorFacts{true, "", true, false});
    CHECK(l.level == Level::Ok);
    CHECK(l.detail.find("socket door") != std::string::npos);
    CHECK(l.detail.find("no_new_privs") == std::string::npos);
    // A hardened daemon: pkexec cannot elevate it, the socket serves.
    l = line(DoorFacts{true, "", true, true});
    CHECK(l.level == Level::Ok);
    CHECK(l.detail.find("no_new_privs, so pkexec could not elevate it") != std::string::npos);
    // No socket: pkexec serves, but a hardened daemon could not call at all.
    l = line(DoorFacts{false, "it does not exist", true, false});
    CHECK(l.level == Level::Warn);
    CHECK(l.detail.find("calls take pkexec") != std::string::npos);
    CHECK(l.detail.find("it does not exist") != std::string::npos);
    CHECK(l.fix.find("banger-signal.socket") != std::string::npos);
    // Neither door.
    for (DoorFacts f : {DoorFacts{false, "x", true, true}, DoorFacts{false, "x", false, false}}) {
        l = line(f);
        CHECK(l.level == Level::Fail);
        CHECK(l.detail.rfind("no door", 0) == 0);
    }
}
