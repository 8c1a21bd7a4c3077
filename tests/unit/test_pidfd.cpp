// PinnedProcess against a real child, the way systemd's test-pidref.c tests
// its pidref: pin, read, signal, wait, and every way the process can be gone.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "policy/proc_stat.hpp"
#include "sys/pidfd.hpp"
#include "sys/proc_facts.hpp"
#include "sys/proc_root.hpp"

using namespace banger;
using namespace std::chrono_literals;

namespace {

// A child that waits to be signalled; reaped by the test (or at the end).
struct Child {
    pid_t pid = -1;
    Child() {
        pid = ::fork();
        if (pid == 0) {
            // doctest's crash handlers came along with fork: a TERM must end
            // the child, not report the parent's test case as crashed.
            for (int sig : {SIGTERM, SIGINT}) (void)::signal(sig, SIG_DFL);
            for (;;) ::pause();
        }
        REQUIRE(pid > 0);
    }
    ~Child() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            reap();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    int reap() {
        int status = 0;
        ::waitpid(pid, &status, 0);
        pid = -1;
        return status;
    }
};

PinnedProcess pin(int proc_fd, pid_t pid) {
    auto pinned = PinnedProcess::pin(proc_fd, Pid::from(static_cast<std::uint32_t>(pid)).value());
    REQUIRE(pinned.ok());
    return std::move(pinned).value();
}

}  // namespace

TEST_CASE("pidfd: a pinned child is read below its own /proc entry") {
    auto proc = open_proc_root();
    REQUIRE(proc.ok());
    Child child;
    PinnedProcess pinned = pin(proc.value().get(), child.pid);
    CHECK(pinned.verify_alive().ok());

    TargetFacts facts = gather_facts(pinned);
    REQUIRE(facts.stat.state == FileState::Read);
    auto stat = parse_proc_stat(facts.stat.text);
    REQUIRE(stat.ok());
    CHECK(stat.value().ppid == ::getpid());
    CHECK(facts.cgroup.state == FileState::Read);
    CHECK(facts.cmdline.state == FileState::NotRead);  // until the judge asks for it
    CHECK(read_command_line(pinned).state == FileState::Read);
    CHECK(facts.exe == own_executable_path().value());
    // An oversized file is a fact, not an error.
    CHECK(pinned.read_file("cmdline", 1).state == FileState::TooLarge);

    pinned.close_proc_dir();
    CHECK(pinned.proc_dir() == -1);
    CHECK(pinned.read_file("stat", kStatCap).state != FileState::Read);
    CHECK(pinned.verify_alive().ok());  // the pidfd still holds it
}

TEST_CASE("pidfd: signal, wait, and every way of being gone") {
    auto proc = open_proc_root();
    REQUIRE(proc.ok());
    const int proc_fd = proc.value().get();
    Child child;
    const pid_t pid = child.pid;
    PinnedProcess pinned = pin(proc_fd, pid);

    // Alive: the deadline ends the wait.
    WaitResult early = wait_for_exits({pinned.pidfd()}, std::chrono::steady_clock::now() + 50ms, -1);
    CHECK_FALSE(early.exited[0]);
    CHECK(early.interrupted_by == 0);

    REQUIRE(pinned.send(parse_signal("TERM").value()).ok());
    WaitResult waited = wait_for_exits({pinned.pidfd()}, std::chrono::steady_clock::now() + 5s, -1);
    CHECK(waited.exited[0]);

    // A zombie: exited, although /proc/<pid> is still there.
    auto zombie = pinned.verify_alive();
    REQUIRE_FALSE(zombie.ok());
    CHECK(zombie.failure().outcome == Outcome::NoSuchProcess);
    FileFact stat = pinned.read_file("stat", kStatCap);
    REQUIRE(stat.state == FileState::Read);
    CHECK(parse_proc_stat(stat.text).value().is_dead());

    int status = child.reap();
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    // Reaped: reads are gone, sends fail cleanly, and the pid cannot be pinned.
    CHECK(pinned.read_file("stat", kStatCap).state == FileState::Gone);
    auto sent = pinned.send(parse_signal("KILL").value());
    REQUIRE_FALSE(sent.ok());
    CHECK(sent.failure().outcome == Outcome::NoSuchProcess);
    auto again = PinnedProcess::pin(proc_fd, Pid::from(static_cast<std::uint32_t>(pid)).value());
    if (!again.ok()) CHECK(again.failure().outcome == Outcome::NoSuchProcess);  // else the pid was reused already
}

TEST_CASE("pidfd: a signal on the interrupt fd ends the wait") {
    Child child;
    auto proc = open_proc_root();
    REQUIRE(proc.ok());
    PinnedProcess pinned = pin(proc.value().get(), child.pid);
    sigset_t usr1, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &usr1, &old) == 0);
    const int sfd = ::signalfd(-1, &usr1, SFD_CLOEXEC | SFD_NONBLOCK);
    REQUIRE(sfd >= 0);
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    WaitResult waited = wait_for_exits({pinned.pidfd()}, std::chrono::steady_clock::now() + 5s, sfd);
    CHECK(waited.interrupted_by == SIGUSR1);
    CHECK_FALSE(waited.exited[0]);
    ::close(sfd);
    REQUIRE(::pthread_sigmask(SIG_SETMASK, &old, nullptr) == 0);
}

TEST_CASE("pidfd: a thread id is no process") {
    auto proc = open_proc_root();
    REQUIRE(proc.ok());
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    std::thread thread([&] {
        tid = static_cast<pid_t>(::syscall(SYS_gettid));
        while (!done) std::this_thread::sleep_for(1ms);
    });
    while (tid == 0) std::this_thread::sleep_for(1ms);
    auto pinned = PinnedProcess::pin(proc.value().get(), Pid::from(static_cast<std::uint32_t>(tid.load())).value());
    done = true;
    thread.join();
    REQUIRE_FALSE(pinned.ok());
    CHECK(pinned.failure().outcome == Outcome::NotManaged);
    CHECK(pinned.failure().reason.find("thread id") != std::string::npos);
}
