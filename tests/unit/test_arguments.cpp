#include <doctest/doctest.h>

#include "policy/arguments.hpp"

using namespace banger;

namespace {

Request with_pids(std::vector<std::string> pids) {
    Request r;
    r.pid_args = std::move(pids);
    return r;
}

std::string refusal(const Request& r) {
    auto parsed = parse_arguments(r, 4194304);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.failure().outcome == Outcome::UsageError);
    return parsed.failure().reason;
}

}  // namespace

TEST_CASE("arguments: --pid, --list or --all, one of them") {
    CHECK(refusal(Request{}) == "--pid (or --all) is required");
    CHECK(parse_arguments(with_pids({"5", "6"}), 4194304).value().pids == std::vector<std::uint32_t>{5, 6});

    Request all;
    all.all = true;
    auto parsed = parse_arguments(all, 4194304);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().pids.empty());

    Request all_pid = with_pids({"5"});
    all_pid.all = true;
    CHECK(refusal(all_pid) == "--all takes no --pid");

    Request list_pid = with_pids({"5"});
    list_pid.list = true;
    CHECK(refusal(list_pid) == "--list takes no --pid");

    Request both;
    both.list = both.all = true;
    CHECK(refusal(both) == "use either --list or --all, not both");
}

TEST_CASE("arguments: --all takes what --pid takes besides") {
    Request r;
    r.all = true;
    r.signal_arg = "KILL";
    r.kill_after_arg = "10";
    r.dry_run = true;
    auto parsed = parse_arguments(r, 4194304);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().signal.name() == "KILL");
    CHECK(parsed.value().kill_after == std::chrono::milliseconds(10000));

    r.wait_arg = "1";
    CHECK(refusal(r) == "use either --wait or --kill-after, not both");
    r.wait_arg.reset();
    r.signal_arg = "STOP";
    auto stop = parse_arguments(r, 4194304);
    REQUIRE_FALSE(stop.ok());
    CHECK(stop.failure().outcome == Outcome::SignalRefused);
}
