#include "sys/deadline.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>

#include "sys/io.hpp"

namespace banger {

namespace {

std::atomic<Deadline*> armed{nullptr};

constexpr std::size_t kWatcherStack = 512U << 10U;

// This thread (not the process) gives up every capability it was born
// with: it only writes the answer and ends the process. False if it could
// not.
bool drop_own_capabilities() noexcept {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct none[2]{};
    return ::syscall(SYS_capset, &header, none) == 0;
}

bool task_listed(pid_t tid) {
    const std::string path = "/proc/self/task/" + std::to_string(tid);
    return ::access(path.c_str(), F_OK) == 0;
}

}  // namespace

Deadline::Deadline(std::chrono::milliseconds limit, Expired expired)
    : limit_(limit), expired_(std::move(expired)), started_(std::chrono::steady_clock::now()) {
    armed.store(this);
}

Status Deadline::watch() {
    if (watching_) return Done{};
    // Born with every signal blocked: no signal meant for the call lands on
    // the watcher.
    sigset_t all;
    sigset_t old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attributes;
    if (::pthread_attr_init(&attributes) == 0) {
        // What expiring needs (the answer, the audit line) with room to spare.
        (void)::pthread_attr_setstacksize(&attributes, kWatcherStack);
        watching_ = ::pthread_create(&watcher_, &attributes, &Deadline::run_watcher, this) == 0;
        (void)::pthread_attr_destroy(&attributes);
    }
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (!watching_) return Failure{Outcome::SystemError, "cannot start the judging deadline's thread"};
    return Done{};
}

Deadline::~Deadline() { (void)end(); }

void* Deadline::run_watcher(void* self) {
    static_cast<Deadline*>(self)->keep_watch();
    return nullptr;
}

void Deadline::keep_watch() {
    watcher_tid_.store(::gettid());
    if (!drop_own_capabilities()) kept_capabilities_.store(true);
    std::unique_lock lock(mutex_);
    // Every wake-up (a notify, the limit, or neither) looks again: ended,
    // held, or past the limit of the pid being read now.
    while (true) {
        if (ended_) return;
        if (held_) {
            wake_.wait(lock);
            continue;
        }
        const auto limit = started_ + limit_;
        if (std::chrono::steady_clock::now() >= limit) break;
        (void)wake_.wait_until(lock, limit);
    }
    const std::uint32_t pid = pid_;
    lock.unlock();
    expired_(pid);  // ends the process; a test's does not
}

void Deadline::reading(std::uint32_t pid) {
    // No wake-up: the watcher, woken at the old limit, waits on to the new.
    const std::lock_guard lock(mutex_);
    pid_ = pid;
    started_ = std::chrono::steady_clock::now();
}

void Deadline::hold() {
    const std::lock_guard lock(mutex_);
    held_ = true;
    wake_.notify_all();
}

void Deadline::restart() {
    const std::lock_guard lock(mutex_);
    held_ = false;
    started_ = std::chrono::steady_clock::now();
    wake_.notify_all();
}

Status Deadline::end() {
    Deadline* self = this;
    armed.compare_exchange_strong(self, nullptr);
    if (!watching_) return Done{};
    {
        const std::lock_guard lock(mutex_);
        ended_ = true;
    }
    wake_.notify_all();
    (void)::pthread_join(watcher_, nullptr);
    watching_ = false;
    // join() returns when the thread's stack is free, a moment before the
    // kernel lets go of the task: wait for that too.
    const pid_t tid = watcher_tid_.load();
    for (int i = 0; tid != 0 && task_listed(tid); ++i) {
        if (i == 1000) return Failure{Outcome::SystemError, "the judging deadline's thread did not end"};
        ::usleep(1000);
    }
    if (kept_capabilities_.load())
        return Failure{Outcome::SystemError, "the judging deadline's thread kept capabilities"};
    return Done{};
}

Status watch_armed_deadline() {
    Deadline* d = armed.load();
    return d == nullptr ? Status{Done{}} : d->watch();
}

void hold_armed_deadline() {
    if (Deadline* d = armed.load()) d->hold();
}

void restart_armed_deadline() {
    if (Deadline* d = armed.load()) d->restart();
}

}  // namespace banger
