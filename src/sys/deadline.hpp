// A deadline for the judging phase, the one phase that waits on files other
// people serve: a lookup below the runtime dir on a FUSE (or hung NFS) mount
// waits for as long as that file system's server keeps it waiting, and the
// kernel may not let even SIGKILL end that wait.
//
// A Deadline watches from a thread of its own, started when the phase first
// reaches a step that may wait on such a file system (watch_armed_deadline:
// only rule 2's look below the runtime dir), so that a call that never takes
// such a step (a VM accepted by its cgroup) pays for no thread. If no step
// of the phase (each pid it reads) has ended `limit` after it began,
// `expired` runs on the watching thread with the pid being read then: it
// answers the call and ends the process (flow.cpp). Per pid, not per phase:
// a call with many targets takes as long as they take, and no one target (a
// process any user can start) can make a slow but answering host look like
// a stalled one. The watcher gives up every capability as it starts (end()
// fails if it could not), takes no signal, and is gone (joined, and no
// longer in /proc/self/task) once end() returns, before any other thread is
// started: the thread checks that follow (verify_working_threads) never see
// it.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

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

    // The watcher runs from here on (a SystemError if it cannot start: the
    // step that may wait must not be taken).
    [[nodiscard]] Status watch();
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
    static void* run_watcher(void* self);
    void keep_watch();

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
    // A plain pthread, not std::thread: std::thread frees its start state on
    // the new thread, and glibc then gives that thread a malloc arena of its
    // own (a 128 MiB mapping made and trimmed), which cost every call more
    // than the rest of the watcher. This thread allocates nothing unless it
    // expires.
    pthread_t watcher_{};
    bool watching_ = false;
};

// The deadline now armed (constructed and not yet ended), if any, watching
// from here on: before a step that may wait on a file system someone else
// serves. Done when none is armed.
[[nodiscard]] Status watch_armed_deadline();

// The deadline now armed, if any, held and restarted (test_pause).
void hold_armed_deadline();
void restart_armed_deadline();

}  // namespace banger
