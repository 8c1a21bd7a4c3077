#include <doctest/doctest.h>

#include <csignal>

#include <nlohmann/json.hpp>

#include "report.hpp"

using namespace banger;

namespace {
CallReport two_targets() {
    CallReport r;
    r.door = Door::Root;
    r.signal_name = "KILL";
    r.caller_uid = 1000;
    r.caller_pid = 77;
    r.targets.push_back(TargetReport{.pid = 10,
                                     .outcome = Outcome::Delivered,
                                     .match = Match::Cgroup,
                                     .cgroup = "/s/vm",
                                     .exe = "/usr/bin/firecracker",
                                     .polkit = PolkitDecision::Yes});
    r.targets.push_back(TargetReport{
        .pid = 11, .outcome = Outcome::NotManaged, .reason = "cgroup /u is not within /s", .cgroup = "/u"});
    r.targets.push_back(TargetReport{.pid = 12, .outcome = Outcome::NoSuchProcess, .reason = "gone"});
    return r;
}
}  // namespace

TEST_CASE("report: exit code is the first failure in argument order") {
    CallReport r = two_targets();
    CHECK(exit_code_of(caller_view(r)) == 4);
    std::swap(r.targets[1], r.targets[2]);
    CHECK(exit_code_of(caller_view(r)) == 3);
    r.targets.resize(1);
    CHECK(exit_code_of(caller_view(r)) == 0);
    CallReport usage;
    usage.call_failure = Failure{Outcome::UsageError, "bad"};
    CHECK(exit_code_of(caller_view(usage)) == 2);
}

TEST_CASE("report: JSON lines carry the contract fields") {
    auto lines = json_lines(caller_view(two_targets()));
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
    CHECK(nlohmann::json::parse(json_lines(caller_view(r))[0])["outcome"] == "would-deliver");
}

TEST_CASE("report: hostile bytes stay on one line and valid JSON") {
    CallReport r;
    r.targets.push_back(TargetReport{
        .pid = 10, .outcome = Outcome::NotManaged, .reason = "cgroup /a\nb\xff is bad", .cgroup = "/a\nb\xff"});
    auto human = human_lines(caller_view(r), false);
    REQUIRE(human.size() == 1);
    CHECK(human[0].find('\n') == std::string::npos);
    CHECK(human[0].find("pid 10") != std::string::npos);
    auto audit = audit_lines(r);
    REQUIRE(audit.size() == 1);
    CHECK(audit[0].text.find('\n') == std::string::npos);
    CHECK(audit[0].text.find("caller_uid=0") != std::string::npos);
    CHECK(nlohmann::json::accept(json_lines(caller_view(r))[0]));
}

TEST_CASE("report: success is silent unless verbose") {
    CallReport r = two_targets();
    r.targets.resize(1);
    CHECK(human_lines(caller_view(r), false).empty());
    auto verbose = human_lines(caller_view(r), true);
    REQUIRE(verbose.size() == 1);
    CHECK(verbose[0].find("delivered KILL") != std::string::npos);
}

TEST_CASE("report: audit lines carry the caller and the polkit decision") {
    auto lines = audit_lines(two_targets());
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].outcome == Outcome::Delivered);
    CHECK(lines[0].text.find(
              "caller_uid=1000 caller_pid=77 door=root pid=10 signal=KILL outcome=delivered code=0 match=cgroup "
              "polkit=yes") == 0);
    CHECK(lines[1].outcome == Outcome::NotManaged);
    CHECK(lines[1].text.find("polkit=- ") != std::string::npos);
}

TEST_CASE("report: the reason is written from the facts") {
    CallReport r;
    r.signal_name = "TERM";
    r.wait = std::chrono::milliseconds{2000};
    auto reason = [&](const TargetReport& t) {
        r.targets = {t};
        return nlohmann::json::parse(json_lines(caller_view(r))[0])["reason"].get<std::string>();
    };
    CHECK(reason(TargetReport{.outcome = Outcome::Delivered, .match = Match::Cgroup}) ==
          "delivered TERM (match: cgroup)");
    CHECK(reason(TargetReport{.outcome = Outcome::Delivered, .match = Match::ApiSock, .exited = true}) ==
          "delivered TERM (match: api-sock); exited");
    CHECK(reason(TargetReport{.outcome = Outcome::StillRunning}) == "still running 2000 ms after TERM");
    CHECK(reason(TargetReport{.outcome = Outcome::StillRunning, .caller_hung_up = true}) ==
          "still running when the caller stopped waiting (it closed its end of the connection)");
    CHECK(reason(TargetReport{.outcome = Outcome::StillRunning, .interrupted_by = SIGINT}) ==
          "still running when SIGINT ended the wait");
    r.kill_after = true;
    CHECK(reason(
              TargetReport{.outcome = Outcome::Delivered, .match = Match::Cgroup, .escalated = true, .exited = true}) ==
          "delivered TERM (match: cgroup); escalated to KILL, then exited");
    CHECK(reason(TargetReport{.outcome = Outcome::StillRunning, .escalated = true}) ==
          "still running after KILL (sent after 2000 ms)");
    CHECK(reason(TargetReport{.outcome = Outcome::StillRunning, .escalated = true, .interrupted_by = SIGTERM}) ==
          "still running when SIGTERM ended the wait (after KILL)");
    CHECK(reason(TargetReport{.outcome = Outcome::NotManaged,
                              .reason = "cgroup /u is not within /s",
                              .api_sock_reason = "executable /usr/bin/sleep is not firecracker"}) ==
          "cgroup /u is not within /s; no api-sock match: executable /usr/bin/sleep is not firecracker");
    r.dry_run = true;
    CHECK(reason(TargetReport{.outcome = Outcome::Delivered, .match = Match::Cgroup}) ==
          "would deliver TERM (match: cgroup)");
}

TEST_CASE("report: polkit's part in the audit line") {
    CallReport r;
    for (auto [decision, word] : {std::pair{PolkitDecision::NotAsked, "polkit=- "},
                                  {PolkitDecision::NotNeeded, "polkit=not-needed "},
                                  {PolkitDecision::Yes, "polkit=yes "},
                                  {PolkitDecision::No, "polkit=no "}}) {
        r.targets = {TargetReport{.pid = 5, .outcome = Outcome::NotAuthorized, .polkit = decision}};
        CHECK(audit_lines(r)[0].text.find(word) != std::string::npos);
    }
}

TEST_CASE("report: a refused elevation says why in JSON") {
    CallReport r;
    r.call_failure = Failure{Outcome::NotAuthorized, "polkit refused"};
    r.elevation = PkexecRefusal{127, ElevationCause::PolkitUnavailable, "Error getting authority: ..."};
    r.targets = {TargetReport{.pid = 10, .outcome = Outcome::NotAuthorized}};
    auto json = nlohmann::json::parse(json_lines(caller_view(r))[0]);
    CHECK(json["elevation"] == "polkit-unavailable");
    CHECK(json["code"] == 7);
    CHECK(elevation_reason(*r.elevation).find("polkitd running") != std::string::npos);
    CHECK(elevation_reason(*r.elevation).find("Error getting authority") != std::string::npos);
    // A call that was no elevation has no such field.
    r.elevation.reset();
    CHECK_FALSE(nlohmann::json::parse(json_lines(caller_view(r))[0]).contains("elevation"));
}

TEST_CASE("report: --list is what it lists") {
    CallReport r;
    r.list = true;
    r.listed = {ListedProcess{
        .pid = 10, .match = Match::Cgroup, .cgroup = "/s/vm", .exe = "/usr/bin/firecracker", .start_time = 99}};
    auto json = nlohmann::json::parse(json_lines(caller_view(r))[0]);
    CHECK(json["pid"] == 10);
    CHECK(json["start_time"] == 99);
    CHECK(json["api_sock"].is_null());
    CHECK(list_table(caller_view(r)).size() == 2);
    CHECK(audit_lines(r)[0].text.find("list=1 accepted=1") != std::string::npos);
    // A --list refused as a whole says it was one.
    r.listed.clear();
    r.call_failure = Failure{Outcome::NotAuthorized, "no"};
    CHECK(audit_lines(r)[0].text.find(" list=1 outcome=not-authorized code=7 ") != std::string::npos);
    r.call_failure.reset();
    CHECK(exit_code_of(caller_view(r)) == 0);
    CHECK(human_lines(caller_view(r), true).empty());
}

TEST_CASE("report: --all that found nothing succeeds, on record") {
    CallReport r;
    r.all = true;
    r.caller_uid = 1000;
    CHECK(exit_code_of(caller_view(r)) == 0);
    CHECK(json_lines(caller_view(r)).empty());
    CHECK(human_lines(caller_view(r), false).empty());
    CHECK(human_lines(caller_view(r), true) ==
          std::vector<std::string>{"banger-signal: --all: no banger VM to signal"});
    const auto audited = audit_lines(r);
    REQUIRE(audited.size() == 1);
    CHECK(audited[0].text.find(" all=1 signal=TERM dry_run=0 accepted=0") != std::string::npos);
    // With targets, each has its own line, as with --pid.
    r.targets.push_back(TargetReport{.pid = 7, .outcome = Outcome::Delivered, .match = Match::Cgroup});
    CHECK(audit_lines(r).size() == 1);
    CHECK(audit_lines(r)[0].text.find(" pid=7 ") != std::string::npos);
    CHECK(human_lines(caller_view(r), true)[0].find("pid 7: delivered") != std::string::npos);
    // An --all refused as a whole says it was one, as --list does.
    r.targets.clear();
    r.call_failure = Failure{Outcome::NotAuthorized, "no"};
    CHECK(audit_lines(r)[0].text.find(" all=1 outcome=not-authorized code=7 ") != std::string::npos);
    r.call_failure.reset();
}

TEST_CASE("report: a refused process that is not the caller's shows only the rule that failed") {
    CallReport r;
    r.caller_uid = 1000;
    TargetReport t{.pid = 4242,
                   .outcome = Outcome::NotManaged,
                   .reason = "cgroup /system.slice/polkit.service is not within /s",
                   .api_sock_reason = "executable /usr/lib/polkit-1/polkitd is not firecracker",
                   .cgroup = "/system.slice/polkit.service",
                   .exe = "/usr/lib/polkit-1/polkitd",
                   .api_sock = "/run/x"};
    t.private_to_caller = true;
    r.targets = {t};
    auto json = nlohmann::json::parse(json_lines(caller_view(r))[0]);
    CHECK(json["exe"].is_null());
    CHECK(json["api_sock"].is_null());
    CHECK(json["cgroup"].is_null());
    CHECK(json["code"] == 4);
    const std::string reason = json["reason"];
    CHECK(reason.find("polkitd") == std::string::npos);
    CHECK(reason.find("polkit.service") == std::string::npos);
    CHECK(reason.find("service cgroup") != std::string::npos);
    CHECK(reason.find("api socket") != std::string::npos);
    const std::string human = human_lines(caller_view(r), false)[0];
    CHECK(human.find("polkitd") == std::string::npos);
    CHECK(human.find("refused: not a banger-managed VM") != std::string::npos);
    // The audit line, root's, keeps everything.
    const std::string audit = audit_lines(r)[0].text;
    CHECK(audit.find("exe=\"/usr/lib/polkit-1/polkitd\"") != std::string::npos);
    CHECK(audit.find("executable /usr/lib/polkit-1/polkitd is not firecracker") != std::string::npos);

    // A system error while judging it may quote its command line: not shown either.
    r.targets[0].outcome = Outcome::SystemError;
    r.targets[0].reason = "cannot look up /run/banger/token-s3cr3t.sock: File name too long";
    r.targets[0].api_sock_reason.reset();
    const std::string error = nlohmann::json::parse(json_lines(caller_view(r))[0])["reason"];
    CHECK(error.find("s3cr3t") == std::string::npos);
    CHECK(error.find("system error") != std::string::npos);
    CHECK(audit_lines(r)[0].text.find("s3cr3t") != std::string::npos);
    r.targets[0].outcome = Outcome::NotManaged;

    // The caller's own process: nothing to hide.
    r.targets[0].private_to_caller = false;
    CHECK(nlohmann::json::parse(json_lines(caller_view(r))[0])["exe"] == "/usr/lib/polkit-1/polkitd");
}

TEST_CASE("report: JSON and the audit say which door served the call") {
    CallReport r = two_targets();
    for (auto [door, word] : {std::pair{Door::Root, "root"}, {Door::Pkexec, "pkexec"}, {Door::Socket, "socket"}}) {
        r.door = door;
        CHECK(nlohmann::json::parse(json_lines(caller_view(r))[0])["door"] == word);
        CHECK(audit_lines(r)[0].text.find(std::string(" door=") + word + " pid=10 ") != std::string::npos);
        CHECK(sending_audit_line(1000, 77, door, r.targets[0], "KILL").find(" signal=KILL event=sending ") !=
              std::string::npos);
        CHECK(sending_audit_line(1000, 77, door, r.targets[0], "KILL").find(std::string(" door=") + word + " ") !=
              std::string::npos);
    }
    // Refused before any door was chosen (the unprivileged half): null, never a door's name.
    r.door = Door::None;
    CHECK(nlohmann::json::parse(json_lines(caller_view(r))[0])["door"].is_null());
    r.list = true;
    r.listed = {ListedProcess{.pid = 10, .match = Match::Cgroup, .cgroup = "/s/vm"}};
    r.door = Door::Socket;
    CHECK(nlohmann::json::parse(json_lines(caller_view(r))[0])["door"] == "socket");
}

TEST_CASE("report: a stalled judging names the process being read, if one was") {
    using namespace std::chrono_literals;
    const std::string named = stalled_audit_line(1000, 77, Door::Socket, 4242, 10000ms);
    CHECK(named.find("caller_uid=1000 caller_pid=77 door=socket pid=4242 event=stalled limit_ms=10000 reason=") == 0);
    const std::string none = stalled_audit_line(1000, 77, Door::Pkexec, 0, 10000ms);
    CHECK(none.find("door=pkexec event=stalled limit_ms=10000") != std::string::npos);
    CHECK(none.find("pid=0") == std::string::npos);
    CHECK(stalled_reason(10s).find("nothing was signalled") != std::string::npos);
}
