// The socket door's parser (door/varlink.hpp): any bytes a peer may send as
// one message, and any bytes a reply may hold. A call is taken only as the
// command line's request (pids in digits, every value then judged by
// parse_arguments); every refusal is an error reply that is valid JSON.
#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "door/varlink.hpp"
#include "fuzz_check.hpp"
#include "policy/pid.hpp"

using namespace banger;

namespace {

bool digits_only(std::string_view s) noexcept {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

void check_call(std::string_view message) {
    const auto read = varlink::read_call(message);
    if (const auto* error = std::get_if<varlink::CallError>(&read)) {
        FUZZ_REQUIRE(error->name == "io.banger.Signal.MalformedRequest" ||
                     error->name == "org.varlink.service.InvalidParameter" ||
                     error->name == "org.varlink.service.MethodNotFound" ||
                     error->name == "org.varlink.service.InterfaceNotFound");
        const std::string reply = varlink::error_reply(*error);
        FUZZ_REQUIRE(reply.find('\0') == std::string::npos);
        const auto parsed = nlohmann::json::parse(reply, nullptr, false);
        FUZZ_REQUIRE(!parsed.is_discarded());
        FUZZ_REQUIRE(parsed["parameters"].contains(error->key));
        return;
    }
    const varlink::Asked& asked = std::get<varlink::Asked>(read);
    FUZZ_REQUIRE(message.find('\0') == std::string_view::npos);
    FUZZ_REQUIRE(message.size() <= varlink::kMaxCall);
    if (asked.kind == varlink::Asked::Kind::GetInterfaceDescription) {
        FUZZ_REQUIRE(asked.interface == varlink::kInterface || asked.interface == varlink::kServiceInterface);
    }
    if (asked.kind != varlink::Asked::Kind::Signal) {
        FUZZ_REQUIRE(asked.request.pid_args.empty());
        return;
    }
    for (const std::string& pid : asked.request.pid_args) FUZZ_REQUIRE(digits_only(pid));
    const auto args = parse_arguments(asked.request, kPidMaxLimit);
    if (!args) {
        FUZZ_REQUIRE(args.failure().outcome == Outcome::UsageError || args.failure().outcome == Outcome::SignalRefused);
        return;
    }
    FUZZ_REQUIRE(!args.value().pids.empty());
    FUZZ_REQUIRE(args.value().pids.size() <= kMaxPidsPerCall);
    for (std::uint32_t pid : args.value().pids) FUZZ_REQUIRE(pid <= kPidMaxLimit);
    // What the client would send for the same request is read back as it.
    const auto again = varlink::read_call(varlink::call_for(asked.request));
    FUZZ_REQUIRE(std::holds_alternative<varlink::Asked>(again));
    const auto reread = parse_arguments(std::get<varlink::Asked>(again).request, kPidMaxLimit);
    FUZZ_REQUIRE(reread.ok());
    FUZZ_REQUIRE(reread.value().pids == args.value().pids);
    FUZZ_REQUIRE(reread.value().signal == args.value().signal);
    FUZZ_REQUIRE(reread.value().wait == args.value().wait);
    FUZZ_REQUIRE(reread.value().kill_after == args.value().kill_after);
}

void check_reply(std::string_view message) {
    for (const bool list : {false, true}) {
        Request request;
        request.list = list;
        const auto view = varlink::read_reply(message, request);
        if (!view) {
            FUZZ_REQUIRE(view.failure().outcome == Outcome::SystemError);
            continue;
        }
        FUZZ_REQUIRE(view.value().door == Door::Socket);
        // Read back from what it would be written as: the same lines.
        const auto again = varlink::read_reply(varlink::call_reply(view.value()), request);
        FUZZ_REQUIRE(again.ok());
        FUZZ_REQUIRE(json_lines(again.value()) == json_lines(view.value()));
        FUZZ_REQUIRE(exit_code_of(again.value()) == exit_code_of(view.value()));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view message = fuzz::as_text(data, size);
    check_call(message);
    check_reply(message);
    return 0;
}
