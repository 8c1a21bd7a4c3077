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
    CHECK(d == std::vector<P>{{"pid", "4242"},
                              {"signal", "TERM"},
                              {"match", "api-sock"},
                              {"cgroup", "/s"},
                              {"exe", "/usr/bin/firecracker"}});
}

TEST_CASE("polkit: one check per accepted target and signal, about that target") {
    const AcceptedTarget targets[] = {{10, Match::Cgroup, "/s/vm", "/usr/bin/firecracker"},
                                      {11, Match::ApiSock, "/u", "/opt/firecracker"}};
    const Subject subject{77, 4242, 1000, 9};
    auto term = polkit_queries(targets, parse_signal("TERM").value(), false, subject);
    REQUIRE(term.size() == 2);
    CHECK(term[0].action_id == "org.banger.signal.send");
    CHECK(term[0].target == 0);
    CHECK(term[1].target == 1);
    CHECK(term[1].details[0] == std::pair<std::string, std::string>{"pid", "11"});
    CHECK(term[1].details[2] == std::pair<std::string, std::string>{"match", "api-sock"});
    for (const PolkitQuery& q : term) {
        CHECK(q.subject_pid == 77);
        CHECK(q.subject_start_time == 4242U);  // as pinned, never looked up again
        CHECK(q.subject_uid == 1000U);
        CHECK(q.subject_pidfd == 9);  // the pinned caller's pidfd travels with every check
    }

    // --kill-after may send KILL too: both actions, per target.
    auto escalating = polkit_queries(targets, parse_signal("TERM").value(), true, subject);
    REQUIRE(escalating.size() == 4);
    CHECK(escalating[0].action_id == "org.banger.signal.send");
    CHECK(escalating[1].action_id == "org.banger.signal.kill");
    CHECK(escalating[1].details[1] == std::pair<std::string, std::string>{"signal", "KILL"});
    CHECK(escalating[1].target == 0);
    CHECK(escalating[3].target == 1);
    // KILL itself needs no second check.
    CHECK(polkit_queries(targets, parse_signal("KILL").value(), true, subject).size() == 2);
    CHECK(polkit_queries({}, parse_signal("TERM").value(), true, subject).empty());
}

TEST_CASE("polkit: a target is allowed only if every check about it said yes") {
    const AcceptedTarget targets[] = {
        {10, Match::Cgroup, "/s", ""}, {11, Match::Cgroup, "/s", ""}, {12, Match::Cgroup, "/s", ""}};
    auto queries = polkit_queries(targets, parse_signal("TERM").value(), true, Subject{1, 0, 1000});
    REQUIRE(queries.size() == 6);
    std::vector<Status> answers(6, Status(Done{}));
    answers[3] = Failure{Outcome::NotAuthorized, "no KILL for you"};  // target 1's KILL
    answers[4] = Failure{Outcome::NotAuthorized, "no TERM"};          // target 2's TERM...
    answers[5] = Failure{Outcome::NotAuthorized, "no KILL"};          // ...and its KILL
    auto denied = fold_answers(queries, answers, 3);
    REQUIRE(denied.size() == 3);
    CHECK_FALSE(denied[0].has_value());
    REQUIRE(denied[1].has_value());
    CHECK(denied[1]->reason == "no KILL for you");
    REQUIRE(denied[2].has_value());
    CHECK(denied[2]->reason == "no TERM");  // the first denial

    // Fewer answers than checks: the unanswered allow nothing.
    answers.erase(answers.begin() + 2, answers.end());
    auto short_answers = fold_answers(queries, answers, 3);
    CHECK_FALSE(short_answers[0].has_value());
    CHECK(short_answers[1].has_value());
    CHECK(short_answers[2].has_value());
}

TEST_CASE("polkit: a target its rules could not see as it is is refused before asking") {
    CHECK_FALSE(refuse_undescribable({10, Match::Cgroup, "/s/vm", "/usr/bin/firecracker"}).has_value());
    CHECK_FALSE(refuse_undescribable({10, Match::Cgroup, "/s/caf\xc3\xa9", ""}).has_value());
    auto exe = refuse_undescribable({10, Match::ApiSock, "/u", "/tmp/review-deny/\xff/firecracker"});
    REQUIRE(exe.has_value());
    CHECK(exe->outcome == Outcome::NotAuthorized);
    CHECK(exe->reason.find("executable") != std::string::npos);
    auto cgroup = refuse_undescribable({10, Match::Cgroup, "/s/bangerd-root.service/deny\xff", "/usr/bin/firecracker"});
    REQUIRE(cgroup.has_value());
    CHECK(cgroup->reason.find("cgroup") != std::string::npos);
}

TEST_CASE("polkit: pidfd subjects from polkit 124 on") {
    for (const char* yes : {"124", "126", "127", "200.1"}) CHECK(takes_pidfd_subjects(yes));
    for (const char* no : {"122", "123", "0.105", "0.120", "", "x126", "99"}) CHECK_FALSE(takes_pidfd_subjects(no));
}

TEST_CASE("polkit: the socket door's gate names the door and the program, about the peer") {
    const PolkitQuery q = gate_query(Subject{77, 4242, 1000, 9}, "/usr/bin/banger-signal");
    CHECK(q.action_id == "org.banger.signal.run");
    CHECK(q.subject_pid == 77);
    CHECK(q.subject_start_time == 4242U);
    CHECK(q.subject_uid == 1000U);
    CHECK(q.subject_pidfd == 9);
    CHECK(q.details ==
          std::vector<std::pair<std::string, std::string>>{{"door", "socket"}, {"program", "/usr/bin/banger-signal"}});
}
