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
