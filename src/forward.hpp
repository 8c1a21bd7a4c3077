// The client's side of the socket door.
#pragma once

#include "cli.hpp"
#include "report.hpp"
#include "sys/connection.hpp"

namespace banger {

// Sends the command line's request through `conn` and prints the answer as
// the privileged part's own report (the same lines, JSON and exit code as
// through pkexec, with "door": "socket"). `checked` is what
// check_arguments() said of the request (no call_failure): a call that
// goes wrong on the way is reported against its pids.
int forward_through_socket(Connection& conn, const CommandLine& cli, const CallReport& checked);

}  // namespace banger
