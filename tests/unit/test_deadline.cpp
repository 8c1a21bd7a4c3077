#include <doctest/doctest.h>

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "sys/deadline.hpp"

using namespace banger;
using namespace std::chrono_literals;

namespace {

int count_tasks() {
    int n = 0;
    DIR* d = ::opendir("/proc/self/task");
    REQUIRE(d != nullptr);
    while (const dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
}

// A field of this thread's /proc status ("CapEff", "SigBlk").
std::string own_status(const std::string& field) {
    std::ifstream in("/proc/thread-self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            std::istringstream rest(line.substr(field.size() + 1));
            std::string value;
            rest >> value;
            return value;
        }
    }
    return "";
}

}  // namespace

TEST_CASE("deadline: past its limit, names the pid being read, on a thread with nothing") {
    std::atomic<std::uint32_t> named{0};
    std::string caps;
    std::string blocked;
    const auto started = std::chrono::steady_clock::now();
    std::chrono::steady_clock::duration took{};
    Deadline d(100ms, [&](std::uint32_t pid) {
        took = std::chrono::steady_clock::now() - started;
        caps = own_status("CapEff");
        blocked = own_status("SigBlk");
        named = pid;
    });
    REQUIRE(d.watch().ok());
    d.reading(41);
    d.reading(42);
    for (int i = 0; i < 200 && named == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(named == 42);
    CHECK(took >= 100ms);
    CHECK(caps == "0000000000000000");
    // Every standard signal that can be blocked (all but KILL and STOP): TERM, INT, HUP...
    REQUIRE(blocked.size() == 16);
    constexpr unsigned long long kBlockable = 0x7fffffffULL & ~((1ULL << (SIGKILL - 1)) | (1ULL << (SIGSTOP - 1)));
    CHECK((std::stoull(blocked, nullptr, 16) & 0x7fffffffULL) == kBlockable);
    CHECK(d.end().ok());
}

TEST_CASE("deadline: ended in time, it never fires, and its thread is gone") {
    const int before = count_tasks();
    std::atomic<bool> fired{false};
    {
        Deadline d(200ms, [&](std::uint32_t) { fired = true; });
        CHECK(count_tasks() == before);  // nothing watches before a step that may wait
        REQUIRE(watch_armed_deadline().ok());
        CHECK(count_tasks() == before + 1);
        d.reading(7);
        REQUIRE(d.end().ok());
        // Gone from /proc/self/task as end() returns: the thread checks that follow never see it.
        CHECK(count_tasks() == before);
        std::this_thread::sleep_for(300ms);
    }
    CHECK_FALSE(fired);
}

TEST_CASE("deadline: held, then restarted, the clock starts again") {
    std::atomic<bool> fired{false};
    Deadline d(150ms, [&](std::uint32_t) { fired = true; });
    REQUIRE(d.watch().ok());
    hold_armed_deadline();
    std::this_thread::sleep_for(300ms);
    CHECK_FALSE(fired);  // held past its limit
    restart_armed_deadline();
    std::this_thread::sleep_for(100ms);
    CHECK_FALSE(fired);  // 400 ms since it was armed, 100 since it restarted
    for (int i = 0; i < 100 && !fired; ++i) std::this_thread::sleep_for(10ms);
    CHECK(fired);
    CHECK(d.end().ok());
}

TEST_CASE("deadline: each pid read has the whole limit; one that takes longer is named") {
    std::atomic<std::uint32_t> named{0};
    Deadline d(200ms, [&](std::uint32_t pid) { named = pid; });
    REQUIRE(d.watch().ok());
    // Six pids, 100 ms each: 600 ms in all, past the limit, none of them past it alone.
    for (std::uint32_t pid = 1; pid <= 6; ++pid) {
        d.reading(pid);
        std::this_thread::sleep_for(100ms);
    }
    CHECK(named == 0);
    d.reading(7);  // and this one stalls
    for (int i = 0; i < 100 && named == 0; ++i) std::this_thread::sleep_for(10ms);
    CHECK(named == 7);
    CHECK(d.end().ok());
}

TEST_CASE("deadline: a phase with no step that may wait has no thread, and never fires") {
    const int before = count_tasks();
    std::atomic<bool> fired{false};
    {
        Deadline d(100ms, [&](std::uint32_t) { fired = true; });
        d.reading(5);
        std::this_thread::sleep_for(250ms);
        CHECK(count_tasks() == before);
        REQUIRE(d.end().ok());
        REQUIRE(watch_armed_deadline().ok());  // ended: nothing armed, nothing started
        CHECK(count_tasks() == before);
    }
    CHECK(count_tasks() == before);
    CHECK_FALSE(fired);
}
