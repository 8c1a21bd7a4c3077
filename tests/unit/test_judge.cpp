#include <doctest/doctest.h>

#include "fixture.hpp"
#include "policy/judge.hpp"

using namespace banger;

namespace {
constexpr std::string_view kService = "/system.slice/bangerd-root.service";
constexpr std::string_view kRuntime = "/run/banger";

std::string cmd(std::initializer_list<std::string_view> args) {
    std::string out;
    for (auto a : args) {
        out += a;
        out += '\0';
    }
    return out;
}
}  // namespace

TEST_CASE("judge: protected pids") {
    Identity id{500, 400};
    for (std::uint32_t pid : {0U, 1U, 500U, 400U}) {
        CAPTURE(pid);
        auto f = refuse_protected_pid(pid, id);
        REQUIRE(f.has_value());
        CHECK(f->outcome == Outcome::Protected);
    }
    CHECK_FALSE(refuse_protected_pid(2, id).has_value());
    CHECK_FALSE(refuse_protected_pid(501, id).has_value());
}

TEST_CASE("judge: kernel threads are protected, zombies are gone") {
    ProcStat kthread;
    kthread.state = 'S';
    kthread.flags = kPfKthread;
    CHECK(refuse_by_stat(kthread)->outcome == Outcome::Protected);
    ProcStat zombie;
    zombie.state = 'Z';
    CHECK(refuse_by_stat(zombie)->outcome == Outcome::NoSuchProcess);
    ProcStat normal;
    normal.state = 'S';
    CHECK_FALSE(refuse_by_stat(normal).has_value());
}

TEST_CASE("judge: cgroup rule") {
    auto accepted = judge_cgroup(fixture("cgroup-v2-service-child.txt"), kService, true);
    CHECK(accepted.accepted);
    CHECK(accepted.path == "/system.slice/bangerd-root.service/vm-1");

    auto spoof = judge_cgroup(fixture("cgroup-v2-user-spoof.txt"), kService, true);
    CHECK_FALSE(spoof.accepted);
    CHECK(spoof.reason.find("is not within /system.slice/bangerd-root.service") != std::string::npos);

    CHECK_FALSE(judge_cgroup(fixture("cgroup-v2-prefix-extended.txt"), kService, true).accepted);
    CHECK_FALSE(judge_cgroup(fixture("cgroup-v2-deleted.txt"), kService, true).accepted);
    CHECK_FALSE(judge_cgroup(fixture("cgroup-v2-outside-namespace.txt"), kService, true).accepted);
    CHECK(judge_cgroup(fixture("cgroup-hybrid-systemd-service.txt"), kService, true).accepted);
    // Same bytes, but we are in a private cgroup namespace: refused.
    auto private_ns = judge_cgroup(fixture("cgroup-v2-service-child.txt"), kService, false);
    CHECK_FALSE(private_ns.accepted);
    CHECK(private_ns.reason.find("namespace") != std::string::npos);
}

TEST_CASE("judge: api-sock claim") {
    const std::string good = cmd({"firecracker", "--api-sock", "/run/banger/vm1.sock"});
    CHECK(judge_api_sock_claim("/usr/bin/firecracker", good, kRuntime).value() == "/run/banger/vm1.sock");
    CHECK(judge_api_sock_claim("/opt/fc/firecracker", cmd({"x", "--api-sock=/run/banger/a/b"}), kRuntime).value() ==
          "/run/banger/a/b");
    CHECK(judge_api_sock_claim("/usr/bin/firecracker", cmd({"firecracker", "-a", "/run/banger/s"}), kRuntime).ok());

    struct Row {
        std::optional<std::string_view> exe;
        std::string cmdline;
        const char* why;
    };
    const Row refused[] = {
        {std::nullopt, good, "unreadable"},
        {"/usr/bin/sleep", good, "not firecracker"},  // argv[0] says firecracker; exe does not
        {"/usr/bin/firecracker-x", good, "not firecracker"},
        {"/usr/bin/firecracker (deleted)", good, "deleted"},
        {"/usr/bin/firecracker", cmd({"firecracker"}), "no --api-sock"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "/run/banger-evil/x"}), "not inside"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "/run/banger/../x"}), "'..'"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "run/banger/x"}), "not absolute"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "/run/banger"}), "not inside"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "/tmp/x"}), "not inside"},
        {"/usr/bin/firecracker", cmd({"firecracker", "--api-sock", "/run/banger/a\nb"}), "control character"},
        {"/usr/bin/firecracker", cmd({"firecracker", "-a", "/run/banger/a", "-a", "/run/banger/b"}), "more than one"},
    };
    for (const auto& row : refused) {
        CAPTURE(row.why);
        auto r = judge_api_sock_claim(row.exe, row.cmdline, kRuntime);
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().outcome == Outcome::NotManaged);
        CHECK(r.failure().reason.find(row.why) != std::string::npos);
    }
}

// judge_target: every rule and every state a fact can be in, one row each,
// like permit() in OpenDoas's tests: facts in, verdict out.
namespace {

FileFact read_as(std::string text) { return FileFact{FileState::Read, std::move(text), {}}; }
FileFact in_state(FileState state) {
    return FileFact{state, {}, state == FileState::Unreadable ? "cannot read it: EIO" : ""};
}

const std::string kGoodCmdline = cmd({"firecracker", "--api-sock", "/run/banger/vm1.sock"});

// A live firecracker outside the service cgroup that claims a good socket:
// rule 1 fails, rule 2's claim holds. Each row changes one fact.
TargetFacts legacy_vm() {
    return TargetFacts{read_as(fixture("stat-sh.txt")), std::string("/usr/bin/firecracker"),
                       read_as(fixture("cgroup-v2-user-spoof.txt")), read_as(kGoodCmdline)};
}

TargetFacts service_vm() {
    TargetFacts facts = legacy_vm();
    facts.cgroup = read_as(fixture("cgroup-v2-service-child.txt"));
    facts.cmdline = read_as(cmd({"sleep", "1000"}));
    facts.exe = "/usr/bin/sleep";
    return facts;
}

constexpr Scope kScope{kService, kRuntime, true};

}  // namespace

TEST_CASE("judge_target: rule 1 accepts the service cgroup and below, whatever the rest says") {
    Verdict v = judge_target(service_vm(), kScope);
    CHECK(v.kind == Verdict::Kind::Accept);
    CHECK(v.match == Match::Cgroup);
    CHECK(v.cgroup == "/system.slice/bangerd-root.service/vm-1");
    CHECK(v.start_time == 50969);
    CHECK_FALSE(v.api_sock.has_value());

    TargetFacts unreadable_rest = service_vm();
    unreadable_rest.exe.reset();
    unreadable_rest.cmdline = in_state(FileState::Unreadable);
    CHECK(judge_target(unreadable_rest, kScope).kind == Verdict::Kind::Accept);

    // As gathered: the command line is not read for rule 1.
    TargetFacts unread = service_vm();
    unread.cmdline = in_state(FileState::NotRead);
    CHECK(judge_target(unread, kScope).kind == Verdict::Kind::Accept);
}

TEST_CASE("judge_target: the command line is asked for only after rule 1 failed, for a Firecracker") {
    TargetFacts facts = legacy_vm();
    facts.cmdline = in_state(FileState::NotRead);
    Verdict v = judge_target(facts, kScope);
    CHECK(v.kind == Verdict::Kind::NeedsCommandLine);
    CHECK(v.match == Match::None);
    CHECK(v.reason.find("is not within /system.slice/bangerd-root.service") != std::string::npos);
    CHECK_FALSE(v.api_sock.has_value());
    // Once read, the same facts go on to the claim.
    facts.cmdline = read_as(kGoodCmdline);
    CHECK(judge_target(facts, kScope).kind == Verdict::Kind::NeedsSocketProof);

    // Any other executable is refused without it (its owner controls how long reading it takes).
    for (std::optional<std::string> exe :
         {std::optional<std::string>("/usr/lib/polkit-1/polkitd"),
          std::optional<std::string>("/usr/bin/firecracker (deleted)"), std::optional<std::string>()}) {
        CAPTURE(exe.value_or("(unreadable)"));
        TargetFacts other = legacy_vm();
        other.cmdline = in_state(FileState::NotRead);
        other.exe = exe;
        Verdict refused = judge_target(other, kScope);
        CHECK(refused.kind == Verdict::Kind::Refuse);
        CHECK(refused.outcome == Outcome::NotManaged);
        REQUIRE(refused.api_sock_reason.has_value());
        CHECK(refused.api_sock_reason->find("executable") != std::string::npos);
    }
    // And facts that refuse before rule 2 never ask for it.
    TargetFacts gone = legacy_vm();
    gone.cmdline = in_state(FileState::NotRead);
    gone.cgroup = in_state(FileState::Gone);
    CHECK(judge_target(gone, kScope).outcome == Outcome::NoSuchProcess);
}

TEST_CASE("judge_target: rule 2's claim asks for the socket proof") {
    Verdict v = judge_target(legacy_vm(), kScope);
    CHECK(v.kind == Verdict::Kind::NeedsSocketProof);
    CHECK(v.api_sock == "/run/banger/vm1.sock");
    CHECK(v.match == Match::None);
    CHECK(v.reason.find("is not within /system.slice/bangerd-root.service") != std::string::npos);
    CHECK(v.cgroup == "/user.slice/user-1000.slice/user@1000.service/app.slice/bangerd-root.service");
}

TEST_CASE("judge_target: each fact's state, each rule's refusal") {
    struct Row {
        const char* what;
        TargetFacts facts;
        Scope scope;
        Verdict::Kind kind;
        Outcome outcome;
        const char* reason;           // in Verdict::reason
        const char* api_sock_reason;  // in Verdict::api_sock_reason, or nullptr: none
    };
    auto with = [](auto change) {
        TargetFacts facts = legacy_vm();
        change(facts);
        return facts;
    };
    const Scope private_ns{kService, kRuntime, false};
    const Row rows[] = {
        {"stat gone", with([](TargetFacts& f) { f.stat = in_state(FileState::Gone); }), kScope, Verdict::Kind::Refuse,
         Outcome::NoSuchProcess, "exited during the checks", nullptr},
        {"stat unreadable", with([](TargetFacts& f) { f.stat = in_state(FileState::Unreadable); }), kScope,
         Verdict::Kind::Refuse, Outcome::SystemError, "EIO", nullptr},
        {"stat too large", with([](TargetFacts& f) { f.stat = in_state(FileState::TooLarge); }), kScope,
         Verdict::Kind::Refuse, Outcome::NotManaged, "/proc/<pid>/stat is larger than 4096 bytes", nullptr},
        {"stat malformed", with([](TargetFacts& f) { f.stat = read_as("4152 sh S"); }), kScope, Verdict::Kind::Refuse,
         Outcome::SystemError, "", nullptr},
        {"zombie", with([](TargetFacts& f) { f.stat = read_as(fixture("stat-zombie.txt")); }), kScope,
         Verdict::Kind::Refuse, Outcome::NoSuchProcess, "zombie", nullptr},
        {"kernel thread", with([](TargetFacts& f) { f.stat = read_as(fixture("stat-kthreadd.txt")); }), kScope,
         Verdict::Kind::Refuse, Outcome::Protected, "kernel thread", nullptr},
        {"cgroup gone", with([](TargetFacts& f) { f.cgroup = in_state(FileState::Gone); }), kScope,
         Verdict::Kind::Refuse, Outcome::NoSuchProcess, "exited during the checks", nullptr},
        {"cgroup unreadable", with([](TargetFacts& f) { f.cgroup = in_state(FileState::Unreadable); }), kScope,
         Verdict::Kind::Refuse, Outcome::SystemError, "EIO", nullptr},
        {"cgroup too large: rule 1 fails, rule 2 still judged",
         with([](TargetFacts& f) { f.cgroup = in_state(FileState::TooLarge); }), kScope,
         Verdict::Kind::NeedsSocketProof, Outcome::NotManaged, "/proc/<pid>/cgroup is larger than 65536 bytes",
         nullptr},
        {"removed cgroup", with([](TargetFacts& f) { f.cgroup = read_as(fixture("cgroup-v2-deleted.txt")); }), kScope,
         Verdict::Kind::NeedsSocketProof, Outcome::NotManaged, "removed cgroup", nullptr},
        {"private cgroup namespace",
         with([](TargetFacts& f) { f.cgroup = read_as(fixture("cgroup-v2-service-child.txt")); }), private_ns,
         Verdict::Kind::NeedsSocketProof, Outcome::NotManaged, "namespace", nullptr},
        {"exe not firecracker", with([](TargetFacts& f) { f.exe = "/usr/lib/polkit-1/polkitd"; }), kScope,
         Verdict::Kind::Refuse, Outcome::NotManaged, "is not within",
         "executable /usr/lib/polkit-1/polkitd is not firecracker"},
        {"exe unreadable", with([](TargetFacts& f) { f.exe.reset(); }), kScope, Verdict::Kind::Refuse,
         Outcome::NotManaged, "is not within", "executable is unreadable"},
        {"exe deleted", with([](TargetFacts& f) { f.exe = "/usr/bin/firecracker (deleted)"; }), kScope,
         Verdict::Kind::Refuse, Outcome::NotManaged, "is not within", "was deleted"},
        {"cmdline too large", with([](TargetFacts& f) { f.cmdline = in_state(FileState::TooLarge); }), kScope,
         Verdict::Kind::Refuse, Outcome::NotManaged, "is not within",
         "/proc/<pid>/cmdline is larger than 131072 bytes"},
        {"cmdline gone", with([](TargetFacts& f) { f.cmdline = in_state(FileState::Gone); }), kScope,
         Verdict::Kind::Refuse, Outcome::NoSuchProcess, "exited during the checks", nullptr},
        {"cmdline unreadable", with([](TargetFacts& f) { f.cmdline = in_state(FileState::Unreadable); }), kScope,
         Verdict::Kind::Refuse, Outcome::SystemError, "EIO", nullptr},
        {"no api socket flag", with([](TargetFacts& f) { f.cmdline = read_as(cmd({"firecracker"})); }), kScope,
         Verdict::Kind::Refuse, Outcome::NotManaged, "is not within", "no --api-sock"},
        {"socket outside the runtime dir", with([](TargetFacts& f) {
             f.cmdline = read_as(cmd({"firecracker", "--api-sock", "/tmp/x"}));
         }),
         kScope, Verdict::Kind::Refuse, Outcome::NotManaged, "is not within", "not inside /run/banger"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.what);
        Verdict v = judge_target(row.facts, row.scope);
        CHECK(v.kind == row.kind);
        if (row.kind == Verdict::Kind::Refuse) CHECK(v.outcome == row.outcome);
        CHECK(v.reason.find(row.reason) != std::string::npos);
        if (row.api_sock_reason == nullptr) {
            CHECK_FALSE(v.api_sock_reason.has_value());
        } else {
            REQUIRE(v.api_sock_reason.has_value());
            CHECK(v.api_sock_reason->find(row.api_sock_reason) != std::string::npos);
        }
        CHECK(v.match == Match::None);
    }
}

TEST_CASE("judge_socket_proof: only a proof accepts, and it keeps what it proved") {
    const Verdict claim = judge_target(legacy_vm(), kScope);
    REQUIRE(claim.kind == Verdict::Kind::NeedsSocketProof);

    Verdict proved = judge_socket_proof(claim, Done{});
    CHECK(proved.kind == Verdict::Kind::Accept);
    CHECK(proved.match == Match::ApiSock);
    CHECK(proved.api_sock == "/run/banger/vm1.sock");

    Verdict unserved =
        judge_socket_proof(claim, Failure{Outcome::NotManaged, "no socket listens on /run/banger/vm1.sock"});
    CHECK(unserved.kind == Verdict::Kind::Refuse);
    CHECK(unserved.outcome == Outcome::NotManaged);
    CHECK(unserved.reason.find("is not within") != std::string::npos);
    CHECK(unserved.api_sock_reason == "no socket listens on /run/banger/vm1.sock");
    CHECK(unserved.match == Match::None);

    for (Outcome o : {Outcome::NoSuchProcess, Outcome::SystemError}) {
        Verdict failed = judge_socket_proof(claim, Failure{o, "why"});
        CHECK(failed.kind == Verdict::Kind::Refuse);
        CHECK(failed.outcome == o);
        CHECK(failed.reason == "why");
        CHECK(failed.match == Match::None);
    }

    // A verdict that asked for no proof is not changed by one.
    const Verdict refused = judge_target(TargetFacts{in_state(FileState::Gone), {}, {}, {}}, kScope);
    CHECK(judge_socket_proof(refused, Done{}).kind == Verdict::Kind::Refuse);
    const Verdict accepted = judge_target(service_vm(), kScope);
    CHECK(judge_socket_proof(accepted, Failure{Outcome::NotManaged, "x"}).kind == Verdict::Kind::Accept);
}
