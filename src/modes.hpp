// What each mode of a call does once main has decided it (policy/caller.hpp):
// the doctor, self-elevation through pkexec, a call refused as a whole, and
// the privileged call itself. Each returns the process's exit code.
#pragma once

#include <sys/types.h>

#include <optional>

#include "cli.hpp"
#include "policy/caller.hpp"
#include "policy/result.hpp"

namespace banger {

// As root, before anything the caller wrote (argv, the environment) is
// read: no signal can end the call between a signal sent and its audit
// line, the limits are ones the call can live with (before GLib and its
// threads), and only the capabilities the call needs are left, which every
// thread started later inherits. The failure, if the process cannot be
// made so (the call is then refused as a whole).
[[nodiscard]] std::optional<Failure> harden_as_root(int argc);

int doctor_mode();
// Not root: check the arguments here (a malformed call never reaches a
// password prompt), then let polkit decide through pkexec.
int elevate_mode(int argc, char** argv, const CommandLine& cli);
// A call refused as a whole, before anything was judged. Logged only by
// root: a line from an unprivileged caller's own process proves nothing.
int refuse_mode(const CommandLine& cli, const Decision& decision, Failure failure);
int privileged_mode(const CommandLine& cli, const Decision& decision);
// banger-signal@.service: the socket door's instance serves the one call on
// the connection systemd passed (serve.cpp). Its exit status says whether it
// could serve, not how the call ended: the answer carries that.
int serve_mode(bool with_connection);

}  // namespace banger
