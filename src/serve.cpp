// The socket door's instance: one per connection, started by PID 1 as the
// helper user (banger-signal@.service), never root. It makes itself what the
// pkexec door's helper becomes (the working capabilities only, the seccomp
// filter), pins its peer, and only then reads what the peer sends: Varlink
// introspection, then one io.banger.Signal call, answered with the same
// report the command line prints, logged as the pkexec door logs it.
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <variant>

#include <fmt/format.h>

#include "cli.hpp"
#include "door/varlink.hpp"
#include "flow.hpp"
#include "modes.hpp"
#include "policy/pid.hpp"
#include "sys/audit.hpp"
#include "sys/caller.hpp"
#include "sys/confine.hpp"
#include "sys/connection.hpp"
#include "sys/hardening.hpp"
#include "sys/limits.hpp"
#include "sys/privileges.hpp"
#include "sys/proc_root.hpp"
#include "sys/test_hooks.hpp"

namespace banger {

namespace {

// The peer has this long for everything it sends, introspection and its
// call, and as long again to take the answer: an idle or slow connection
// holds an instance, and an instance is one of the socket's MaxConnections.
constexpr std::chrono::seconds kCallTimeout{30};
// Introspection calls before the real one (varlinkctl introspect makes a
// handful): no more, so that none can keep an instance for itself.
constexpr int kMaxIntrospection = 8;

void audit_all(const CallReport& report) {
    for (const auto& line : audit_lines(report)) audit(line.outcome, line.text);
}

// Who is at the other end, as the kernel said at connect(): for the audit
// line of a call refused before the peer could be pinned.
struct PeerIds {
    uid_t uid = static_cast<uid_t>(-1);
    int pid = 0;
};

PeerIds peer_ids(int connection) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return {};
    return PeerIds{cred.uid, cred.pid};
}

// A message the door does not take: answered with its error, and on record
// (a peer sending what no banger-signal sends is worth an admin's look).
void refuse_message(Connection& conn, const PeerIds& peer, const varlink::CallError& error) {
    CallReport report;
    report.door = Door::Socket;
    report.caller_uid = peer.uid;
    report.caller_pid = peer.pid;
    report.call_failure = Failure{Outcome::UsageError, fmt::format("not a call the socket door takes: {} ({}: {})",
                                                                   error.name, error.key, error.value)};
    audit_all(report);
    (void)conn.write_message(varlink::error_reply(error), std::chrono::steady_clock::now() + kCallTimeout);
}

// Everything the instance does before it reads a byte from its peer. Two
// kinds of failure: the instance is not what the unit should have made it
// (`unsettled`: it reads nothing, and answers with that), or its peer could
// not be pinned (`failure`: the call, read under the filter, is refused with
// it).
struct Ready {
    std::optional<Failure> unsettled;
    std::optional<Failure> failure;
    std::optional<HelperUser> helper;
    UniqueFd proc;
    std::optional<PinnedCaller> peer;
};

Ready get_ready(const Connection& conn) {
    Ready ready;
    const auto note = [&ready](Status step) {
        if (!step && !ready.unsettled) ready.unsettled = std::move(step).failure();
    };
    // As the pkexec door's helper: no signal ends the call between a signal
    // sent and its line, and the limits are ones a call can live with.
    if (!hold_async_signals()) note(Failure{Outcome::SystemError, "cannot hold signals"});
    if (!leave_real_time()) note(Failure{Outcome::SystemError, "cannot leave a real-time scheduling policy"});
    note(normalize_limits(kMaxPidsPerCall));
    note(instance_holds_working_caps());
    auto helper = find_helper_user();
    if (helper) {
        ready.helper = helper.value();
        note(settle_instance(helper.value()));
    } else {
        note(std::move(helper).failure());
    }
    auto proc = open_proc_root();
    test_pause("accepted");
    if (proc) {
        ready.proc = std::move(proc).value();
        // At once, before the peer could go and its pid be reused.
        auto peer = PinnedCaller::peer(ready.proc.get(), conn.fd(), !test_hides_peer_pidfd());
        if (peer) {
            ready.peer.emplace(std::move(peer).value());
        } else {
            ready.failure = std::move(peer).failure();
        }
    } else {
        note(std::move(proc).failure());
    }
    // What the peer sends is read under the filter only.
    note(confine_working_process());
    return ready;
}

}  // namespace

int serve_mode(bool with_connection) {
    if (!with_connection) {
        return emit_failure(Failure{Outcome::UsageError,
                                    "--serve is banger-signal@.service's: it serves the connection that "
                                    "banger-signal.socket passes as fd 3 (LISTEN_FDS=1)"});
    }
    Connection conn{UniqueFd(kListenFd)};
    if (auto accepted = check_accepted_connection(conn.fd()); !accepted) return emit_failure(accepted.failure());
    const PeerIds ids = peer_ids(conn.fd());
    Ready ready = get_ready(conn);
    test_pause("serving");
    if (ready.unsettled) {
        // Not what banger-signal@.service makes: nothing of the peer's is read.
        CallReport refused;
        refused.door = Door::Socket;
        refused.caller_uid = ids.uid;
        refused.caller_pid = ids.pid;
        refused.call_failure = std::move(ready.unsettled);
        audit_all(refused);
        (void)conn.write_message(varlink::call_reply(caller_view(refused)),
                                 std::chrono::steady_clock::now() + kCallTimeout);
        return exit_code(refused.call_failure->outcome);
    }

    const auto deadline = std::chrono::steady_clock::now() + kCallTimeout;
    std::optional<varlink::Asked> asked;
    for (int introspected = 0; !asked; ++introspected) {
        if (introspected > kMaxIntrospection) {
            refuse_message(conn, ids,
                           varlink::CallError{"io.banger.Signal.MalformedRequest", "reason",
                                              fmt::format("more than {} introspection calls", kMaxIntrospection)});
            return 0;
        }
        auto message = conn.read_message(varlink::kMaxCall, deadline);
        if (!message) {
            refuse_message(
                conn, ids,
                varlink::CallError{"io.banger.Signal.MalformedRequest", "reason", std::move(message).failure().reason});
            return 0;
        }
        if (!message.value()) return 0;  // the peer went without a call
        auto read = varlink::read_call(*message.value());
        if (auto* error = std::get_if<varlink::CallError>(&read)) {
            refuse_message(conn, ids, *error);
            return 0;
        }
        varlink::Asked& call = std::get<varlink::Asked>(read);
        // Introspection is anyone's, as for every Varlink service: it tells
        // what the man page does.
        if (call.kind == varlink::Asked::Kind::GetInfo) {
            if (!call.oneway && !conn.write_message(varlink::info_reply(), deadline)) return 0;
        } else if (call.kind == varlink::Asked::Kind::GetInterfaceDescription) {
            if (!call.oneway && !conn.write_message(varlink::description_reply(call.interface), deadline)) return 0;
        } else {
            asked = std::move(call);
        }
    }

    // Logged, then told (unless the call is oneway). The caller may have gone
    // meanwhile: the audit has it all, nobody to tell.
    const Answer answer = [&conn, oneway = asked->oneway](const CallReport& ended) {
        audit_all(ended);
        if (oneway) return;
        (void)conn.write_message(varlink::call_reply(caller_view(ended)),
                                 std::chrono::steady_clock::now() + kCallTimeout);
    };
    CallReport report;
    if (ready.failure) {  // the peer could not be pinned
        report = check_arguments(asked->request);
        if (!report.call_failure) {
            report = refuse_call(std::move(report), asked->request, std::move(*ready.failure), ids.uid, ids.pid);
        }
        report.door = Door::Socket;
        report.caller_uid = ids.uid;
        report.caller_pid = ids.pid;
    } else {
        report = serve_call(asked->request, Instance{ready.proc.get(), *ready.helper, *ready.peer, conn.fd()}, answer);
    }
    answer(report);
    return 0;
}

}  // namespace banger
