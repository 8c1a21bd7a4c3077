// A deadline for the judging phase, the one phase that waits on files other
// people serve: a lookup below the runtime dir on a FUSE (or hung NFS) mount
// waits for as long as that file system's server keeps it waiting, and the
// kernel may not let even SIGKILL end that wait.
//
// A Deadline watches from a thread of its own while the phase runs. If no
// step of the phase (the phase's start, then each pid it goes on to read)
// has ended `limit` after it began, `expired` runs on the watching thread
// with the pid being read then: it answers the call and ends the process
// (flow.cpp). Per step, not per phase: a call with many targets takes as
// long as they take, and no one target (a process any user can start) can
// make a slow but answering host look like a stalled one. The watcher gives
// up every capability as it starts (end() fails if it could not), takes no
// signal, and is gone (joined, and no longer in /proc/self/task) once end()
// returns, before any other thread is started: the thread checks that
// follow (verify_working_threads) never see it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "policy/result.hpp"

namespace banger {

class Deadline {
public:
    using Expired = std::function<void(std::uint32_t pid)>;

    Deadline(std::chrono::milliseconds limit, Expired expired);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;
    Deadline(Deadline&&) = delete;
    Deadline& operator=(Deadline&&) = delete;

    // False if no thread could be started to watch (the call must not go on).
    [[nodiscard]] bool watching() const noexcept { return watcher_.joinable(); }
    // The phase now reads this pid's facts (named if it stalls): the clock
    // starts again.
    void reading(std::uint32_t pid);
    // The phase is over: the watcher is gone when this returns (a failure
    // if it could not be seen to go within a second, or could not give up
    // its capabilities).
    [[nodiscard]] Status end();
    // The clock stops, and starts again from nothing (a test that holds the
    // phase on purpose: sys/test_hooks.cpp).
    void hold();
    void restart();

private:
    void watch();

    std::chrono::milliseconds limit_;
    Expired expired_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::chrono::steady_clock::time_point started_;
    bool ended_ = false;
    bool held_ = false;
    std::uint32_t pid_ = 0;
    std::atomic<pid_t> watcher_tid_{0};
    std::atomic<bool> kept_capabilities_{false};
    std::thread watcher_;
};

// The deadline now armed, if any, held and restarted (test_pause).
void hold_armed_deadline();
void restart_armed_deadline();

}  // namespace banger
