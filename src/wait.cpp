#include "candidate.hpp"

#include <chrono>

#include "sys/hardening.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// After an escalation to KILL, how long to wait for the process to go.
constexpr milliseconds kAfterKillWait{5000};

// Waits for all of `running` with one deadline; marks those that exit and
// keeps the rest in `running`. Says what ended it early, if anything.
WaitResult wait_for(std::vector<Candidate*>& running, milliseconds limit, int interrupt_fd, int hangup_fd) {
    std::vector<int> pidfds;
    pidfds.reserve(running.size());
    for (const Candidate* c : running) pidfds.push_back(c->pin->pidfd());
    WaitResult waited = wait_for_exits(pidfds, steady_clock::now() + limit, interrupt_fd, hangup_fd);
    std::vector<Candidate*> still;
    for (std::size_t i = 0; i < running.size(); ++i) {
        if (waited.exited[i]) {
            running[i]->report.exited = true;
        } else {
            still.push_back(running[i]);
        }
    }
    running = std::move(still);
    return waited;
}

// --kill-after: KILL for each target still running, each on record before it goes.
void escalate(const Context& ctx, std::vector<Candidate*>& running) {
    const Signal kill = parse_signal("KILL").value();
    std::vector<Candidate*> killed;
    for (Candidate* c : running) {
        log_sending(ctx, c->report, kill);
        if (auto sent = c->pin->send(kill); sent) {
            c->report.escalated = true;
            killed.push_back(c);
        } else if (sent.failure().outcome == Outcome::NoSuchProcess) {
            c->report.exited = true;  // it exited just before the KILL: that is success
        } else {
            c->refuse(std::move(sent).failure());
        }
    }
    running = std::move(killed);
}

}  // namespace

// --wait and --kill-after, for all delivered targets at once. INT, TERM,
// HUP or QUIT (an admin's ^C) ends the wait early, without escalating, and
// so does the socket door's caller closing its end of the connection (its
// own ^C, or its end); the call still reports and logs what it did.
void wait_and_escalate(const Context& ctx, std::vector<Candidate>& candidates) {
    std::vector<Candidate*> running;
    for (Candidate& c : candidates) {
        if (c.pin && c.report.outcome == Outcome::Delivered) running.push_back(&c);
    }
    if (running.empty()) return;
    const UniqueFd interrupt(open_interrupt_fd());
    WaitResult ended = wait_for(running, *ctx.wait, interrupt.get(), ctx.hangup_fd);
    const auto early = [&ended] { return ended.interrupted_by != 0 || ended.hung_up; };
    if (ctx.kill_after && !running.empty() && !early()) {
        escalate(ctx, running);
        if (!running.empty()) ended = wait_for(running, kAfterKillWait, interrupt.get(), ctx.hangup_fd);
    }
    for (Candidate* c : running) {
        c->report.outcome = Outcome::StillRunning;
        c->report.interrupted_by = ended.interrupted_by;
        c->report.caller_hung_up = ended.hung_up;
    }
}

}  // namespace banger
