// The command line in, the report out: CLI11's definition of every option,
// and writing a report's lines to stdout and stderr.
#pragma once

#include <cstdio>
#include <string_view>
#include <variant>

#include "policy/arguments.hpp"
#include "report.hpp"

namespace banger {

// How an unprivileged call reaches the privileged part (--door).
enum class DoorChoice {
    Auto,    // the socket door when it answers, else pkexec
    Socket,  // the socket door or nothing (a daemon that must never use pkexec)
    Pkexec,  // pkexec or nothing
};

struct CommandLine {
    Request request;
    bool json = false;
    bool verbose = false;
    bool doctor = false;
    bool serve = false;  // banger-signal@.service: serve the connection systemd passed
    DoorChoice door = DoorChoice::Auto;
};

// The parsed command line, or the exit code of a call that is already over
// (--help, --version, a usage error, each written out).
[[nodiscard]] std::variant<CommandLine, int> parse_command_line(int argc, char** argv);

// One line. If the stream is gone there is nobody to tell; the exit code
// and the audit line still say what happened.
void put(std::FILE* stream, std::string_view line);

// Writes what the caller is told (human lines on stderr; the --list table or
// JSON Lines on stdout) and returns the call's exit code.
int emit(const CallView& view, bool json, bool verbose);

// A call that failed as a whole before anything was judged: written like
// any report, with its exit code.
int emit_failure(Failure failure);

}  // namespace banger
