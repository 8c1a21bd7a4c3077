#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "report.hpp"

using namespace banger;

namespace {
CallReport two_targets() {
    CallReport r;
    r.signal_name = "KILL";
    r.caller_uid = 1000;
    r.caller_pid = 77;
    r.targets.push_back(TargetReport{10, Outcome::Delivered, Match::Cgroup, "ok", "/s/vm", "/usr/bin/firecracker", {}, "yes", 0, false});
    r.targets.push_back(TargetReport{11, Outcome::NotManaged, Match::None, "cgroup /u is not within /s", "/u", {}, {}, "", 0, false});
    r.targets.push_back(TargetReport{12, Outcome::NoSuchProcess, Match::None, "gone", "", {}, {}, "", 0, false});
    return r;
}
}  // namespace

TEST_CASE("report: exit code is the first failure in argument order") {
    CallReport r = two_targets();
    CHECK(exit_code_of(r) == 4);
    std::swap(r.targets[1], r.targets[2]);
    CHECK(exit_code_of(r) == 3);
    r.targets.resize(1);
    CHECK(exit_code_of(r) == 0);
    CallReport usage;
    usage.call_failure = Failure{Outcome::UsageError, "bad"};
    CHECK(exit_code_of(usage) == 2);
}

TEST_CASE("report: JSON lines carry the contract fields") {
    auto lines = json_lines(two_targets());
    REQUIRE(lines.size() == 3);
    auto first = nlohmann::json::parse(lines[0]);
    CHECK(first["pid"] == 10);
    CHECK(first["signal"] == "KILL");
    CHECK(first["code"] == 0);
    CHECK(first["outcome"] == "delivered");
    CHECK(first["match"] == "cgroup");
    CHECK(first["cgroup"] == "/s/vm");
    CHECK(first["exe"] == "/usr/bin/firecracker");
    CHECK(first["api_sock"].is_null());
    CHECK(first["dry_run"] == false);
    auto second = nlohmann::json::parse(lines[1]);
    CHECK(second["match"].is_null());
    CHECK(second["code"] == 4);
    CHECK(second["outcome"] == "not-managed");
    CHECK(lines[0].find('\n') == std::string::npos);
}

TEST_CASE("report: dry run says would-deliver") {
    CallReport r = two_targets();
    r.dry_run = true;
    CHECK(nlohmann::json::parse(json_lines(r)[0])["outcome"] == "would-deliver");
}

TEST_CASE("report: hostile bytes stay on one line and valid JSON") {
    CallReport r;
    r.targets.push_back(TargetReport{10, Outcome::NotManaged, Match::None, "cgroup /a\nb\xff is bad", "/a\nb\xff", {}, {}, "", 0, false});
    auto human = human_lines(r, false);
    REQUIRE(human.size() == 1);
    CHECK(human[0].find('\n') == std::string::npos);
    CHECK(human[0].find("pid 10") != std::string::npos);
    auto audit = audit_lines(r);
    REQUIRE(audit.size() == 1);
    CHECK(audit[0].text.find('\n') == std::string::npos);
    CHECK(audit[0].text.find("caller_uid=0") != std::string::npos);
    CHECK(nlohmann::json::accept(json_lines(r)[0]));
}

TEST_CASE("report: success is silent unless verbose") {
    CallReport r = two_targets();
    r.targets.resize(1);
    CHECK(human_lines(r, false).empty());
    auto verbose = human_lines(r, true);
    REQUIRE(verbose.size() == 1);
    CHECK(verbose[0].find("delivered KILL") != std::string::npos);
}

TEST_CASE("report: audit lines carry the caller and the polkit decision") {
    auto lines = audit_lines(two_targets());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].outcome == Outcome::Delivered);
    CHECK(lines[0].text.find("caller_uid=1000 caller_pid=77 pid=10 signal=KILL outcome=delivered code=0 match=cgroup polkit=yes") == 0);
    CHECK(lines[1].outcome == Outcome::NotManaged);
    CHECK(lines[1].text.find("polkit=- ") != std::string::npos);
}
