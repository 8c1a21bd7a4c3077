// The socket door's protocol: Varlink (varlink.org), what systemd and
// varlinkctl speak. Each message is one JSON object ended by a NUL byte; a
// call names a method and its parameters, a reply carries parameters or an
// error. Pure: messages in, requests and replies out. What moves the bytes
// is sys/connection; the instance (serve.cpp) and the client (forward.cpp)
// use both. The interface, io.banger.Signal, is described by
// interface_description(); every outcome it answers with is the outcome
// table's (policy/outcome.hpp) and every object it returns is --json's
// (report_json.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "policy/arguments.hpp"
#include "policy/result.hpp"
#include "report.hpp"

namespace banger::varlink {

inline constexpr std::string_view kInterface = "io.banger.Signal";
inline constexpr std::string_view kServiceInterface = "org.varlink.service";

// A call with 4096 pids takes about 45 KiB; nothing legitimate comes near.
inline constexpr std::size_t kMaxCall = std::size_t{128} * 1024;
// A reply about 4096 targets, each with its paths and reason: a few MiB.
inline constexpr std::size_t kMaxReply = std::size_t{16} * 1024 * 1024;

// A call the door will not take, as the error reply it gets: the error's
// name and its one parameter.
struct CallError {
    std::string name;  // e.g. "org.varlink.service.InvalidParameter"
    std::string key;   // e.g. "parameter"
    std::string value;
};

// What one call asks for, once it was understood.
struct Asked {
    enum class Kind { GetInfo, GetInterfaceDescription, Signal, List };
    Kind kind = Kind::GetInfo;
    std::string interface {};  // GetInterfaceDescription
    Request request{};         // Signal and List: what the command line would have said
    bool oneway = false;       // the caller wants no reply
};

// One message (its NUL taken off) as a call. The envelope must be an object
// with "method" and optionally "parameters", "more", "oneway", nothing else
// and no key twice; io.banger.Signal's parameters are checked for their
// names and types here (InvalidParameter naming the first wrong one) and for
// their values by the same parser as the command line's (parse_arguments),
// so that a pid, a signal name or a duration means the same through either
// door. Numbers are kept as written: a pid is a JSON integer without sign,
// a duration a JSON number of seconds with at most three decimals.
[[nodiscard]] std::variant<Asked, CallError> read_call(std::string_view message);

// Replies, each one JSON object without its NUL.
[[nodiscard]] std::string info_reply();
// `interface` is one read_call() accepted: kInterface or kServiceInterface.
[[nodiscard]] std::string description_reply(std::string_view interface);
[[nodiscard]] std::string error_reply(const CallError& error);
// The answer to Signal or List: the targets (or processes) as --json prints
// them, with the call's exit code; a call refused as a whole is the error
// named after its outcome (io.banger.Signal.NotAuthorized, ...), carrying
// its reason and its targets.
[[nodiscard]] std::string call_reply(const CallView& view);

// io.banger.Signal in Varlink's interface definition language.
[[nodiscard]] std::string interface_description();
// The error name a call failure with `outcome` gets ("io.banger.Signal.UsageError").
[[nodiscard]] std::string error_name(Outcome outcome);

// --doctor's question to the door, and the version of banger-signal that
// answers it (SystemError if the answer is not banger-signal's GetInfo).
[[nodiscard]] std::string info_call();
[[nodiscard]] Result<std::string> info_version(std::string_view reply);

// The client's side: the call for a request (Signal, or List when
// request.list) and, from the reply, what the caller is told. A reply that
// is not one the door sends is a SystemError.
[[nodiscard]] std::string call_for(const Request& request);
[[nodiscard]] Result<CallView> read_reply(std::string_view message, const Request& request);

}  // namespace banger::varlink
