// An unprivileged call through the socket door: the request goes to the
// instance as a Varlink call, and its answer is printed as if this process
// had made the report itself (door/varlink.cpp reads it back into the same
// view --json and the stderr lines are written from).
#include "forward.hpp"

#include <unistd.h>

#include <csignal>

#include "door/varlink.hpp"
#include "flow.hpp"
#include "sys/hardening.hpp"

namespace banger {

int forward_through_socket(Connection& conn, const CommandLine& cli, const CallReport& checked) {
    const auto refuse = [&](Failure failure) {
        CallReport refused = refuse_call(checked, cli.request, std::move(failure), ::getuid(), ::getpid());
        refused.door = Door::Socket;
        return emit(caller_view(refused), cli.json, cli.verbose);
    };
    if (auto sent = conn.write_message(varlink::call_for(cli.request)); !sent) {
        return refuse(
            Failure{Outcome::SystemError, "cannot send the call to the socket door: " + sent.failure().reason});
    }
    // A ^C (or the like) ends the call's wait as it would through pkexec,
    // where the signal reaches the helper: this end stops sending, the
    // instance stops waiting and answers; a second one gives up.
    sigset_t interrupts;
    sigemptyset(&interrupts);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&interrupts, sig);
    (void)::sigprocmask(SIG_BLOCK, &interrupts, nullptr);
    const UniqueFd interrupt(open_interrupt_fd());
    auto reply = conn.read_message(varlink::kMaxReply, Connection::Deadline{}, interrupt.get());
    if (!reply) {
        return refuse(
            Failure{Outcome::SystemError, "no answer from the socket door: " + std::move(reply).failure().reason});
    }
    if (!reply.value()) {
        return refuse(Failure{Outcome::SystemError,
                              "the socket door closed the connection without an answer (more calls at once than "
                              "banger-signal.socket's MaxConnections? see journalctl -u banger-signal.socket)"});
    }
    auto view = varlink::read_reply(*reply.value(), cli.request);
    if (!view) return refuse(std::move(view).failure());
    return emit(view.value(), cli.json, cli.verbose);
}

}  // namespace banger
