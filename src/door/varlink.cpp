#include "door/varlink.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "build_config.hpp"
#include "door/strict_json.hpp"
#include "report_json.hpp"

namespace banger::varlink {

namespace {

using Json = nlohmann::ordered_json;
using Kind = JsonValue::Kind;

constexpr std::string_view kMalformed = "io.banger.Signal.MalformedRequest";
constexpr std::string_view kInvalidParameter = "org.varlink.service.InvalidParameter";
constexpr std::string_view kMethodNotFound = "org.varlink.service.MethodNotFound";
constexpr std::string_view kInterfaceNotFound = "org.varlink.service.InterfaceNotFound";

// A call: the envelope, the parameters object, the pids array.
constexpr JsonLimits kCallLimits{.max_depth = 4, .max_members = 16};
// A reply: the envelope, its parameters, the targets, one target.
constexpr JsonLimits kReplyLimits{.max_depth = 4, .max_members = 16};

CallError malformed(std::string reason) { return CallError{std::string(kMalformed), "reason", std::move(reason)}; }
// The peer's own words (a parameter, method or interface name) come back,
// and go to the log, cut short and printable.
std::string peer_words(std::string_view peer_text) { return excerpt(peer_text, 100); }

CallError invalid(std::string_view parameter) {
    return CallError{std::string(kInvalidParameter), "parameter", peer_words(parameter)};
}

std::string with_nul_free(const Json& message) { return json_line(message); }

// "usage-error" -> "UsageError": the outcome's name as a Varlink error name.
std::string camel(std::string_view kebab) {
    std::string out;
    bool upper = true;
    for (char c : kebab) {
        if (c == '-') {
            upper = true;
            continue;
        }
        out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
        upper = false;
    }
    return out;
}

// -- the call -------------------------------------------------------------------------------

std::optional<CallError> no_parameters(const JsonValue& parameters) {
    if (!parameters.members.empty()) return invalid(parameters.members.front().first);
    return std::nullopt;
}

// io.banger.Signal.Signal's parameters, into what the command line would
// have said: every value is then judged by parse_arguments, as there.
std::variant<Request, CallError> signal_request(const JsonValue& parameters) {
    Request request;
    bool has_pids = false;
    for (const auto& [name, value] : parameters.members) {
        if (name == "pids") {
            if (value.kind != Kind::Array) return invalid(name);
            for (const JsonValue& pid : value.items) {
                if (pid.kind != Kind::Unsigned) return invalid(name);
                request.pid_args.push_back(pid.text);
            }
            has_pids = true;
        } else if (name == "signal") {
            if (value.kind == Kind::String) {
                request.signal_arg = value.text;
            } else if (value.kind != Kind::Null) {
                return invalid(name);
            }
        } else if (name == "all") {
            if (value.kind == Kind::Boolean) {
                request.all = value.boolean;
            } else if (value.kind != Kind::Null) {
                return invalid(name);
            }
        } else if (name == "dry_run") {
            if (value.kind == Kind::Boolean) {
                request.dry_run = value.boolean;
            } else if (value.kind != Kind::Null) {
                return invalid(name);
            }
        } else if (name == "wait" || name == "kill_after") {
            // A number of seconds, as written: parse_duration takes "5",
            // "0.5", and refuses "-0.5", "1e3" and "0.0001" as the CLI does.
            // A negative integer is no duration (and -0 reads as 0).
            if (value.kind == Kind::Unsigned || value.kind == Kind::Float) {
                (name == "wait" ? request.wait_arg : request.kill_after_arg) = value.text;
            } else if (value.kind != Kind::Null) {
                return invalid(name);
            }
        } else {
            return invalid(name);
        }
    }
    if (!has_pids && !request.all) return invalid("pids");
    return request;
}

std::variant<Asked, CallError> asked_of(std::string_view method, const JsonValue& parameters) {
    const std::size_t dot = method.rfind('.');
    const std::string_view interface = dot == std::string_view::npos ? std::string_view() : method.substr(0, dot);
    Asked asked;
    if (interface == kServiceInterface) {
        if (method == "org.varlink.service.GetInfo") {
            if (auto bad = no_parameters(parameters)) return *bad;
            asked.kind = Asked::Kind::GetInfo;
            return asked;
        }
        if (method == "org.varlink.service.GetInterfaceDescription") {
            const JsonValue* name = parameters.find("interface");
            if (name == nullptr || name->kind != Kind::String) return invalid("interface");
            if (parameters.members.size() != 1) {
                for (const auto& [key, v] : parameters.members) {
                    if (key != "interface") return invalid(key);
                }
            }
            if (name->text != kInterface && name->text != kServiceInterface) {
                return CallError{std::string(kInterfaceNotFound), "interface", peer_words(name->text)};
            }
            asked.kind = Asked::Kind::GetInterfaceDescription;
            asked.interface = name->text;
            return asked;
        }
    } else if (interface == kInterface) {
        if (method == "io.banger.Signal.Signal") {
            auto request = signal_request(parameters);
            if (auto* bad = std::get_if<CallError>(&request)) return std::move(*bad);
            asked.kind = Asked::Kind::Signal;
            asked.request = std::move(std::get<Request>(request));
            return asked;
        }
        if (method == "io.banger.Signal.List") {
            if (auto bad = no_parameters(parameters)) return *bad;
            asked.kind = Asked::Kind::List;
            asked.request.list = true;
            return asked;
        }
    } else {
        return CallError{std::string(kInterfaceNotFound), "interface", peer_words(interface)};
    }
    return CallError{std::string(kMethodNotFound), "method", peer_words(method)};
}

// -- the reply (the client's side) --------------------------------------------------------------

Failure bad_reply(std::string_view why) {
    return Failure{Outcome::SystemError, fmt::format("the socket door's reply is malformed: {}", why)};
}

// The members of one object, each taken once, and none left over.
class Reader {
public:
    Reader(const JsonValue& object, std::string_view what) : object_(object), what_(what) {}

    const JsonValue* take(std::string_view key) {
        const JsonValue* v = object_.find(key);
        if (v != nullptr) ++taken_;
        return v;
    }
    std::optional<std::string> string(std::string_view key) {
        const JsonValue* v = take(key);
        if (v == nullptr || v->kind != Kind::String) return fail(key);
        return v->text;
    }
    // A string or null; nullopt with ok() false when it is neither.
    std::optional<std::string> nullable(std::string_view key) {
        const JsonValue* v = take(key);
        if (v != nullptr && v->kind == Kind::String) return v->text;
        if (v == nullptr || v->kind != Kind::Null) (void)fail(key);
        return std::nullopt;
    }
    std::optional<bool> boolean(std::string_view key) {
        const JsonValue* v = take(key);
        if (v == nullptr || v->kind != Kind::Boolean) return fail(key);
        return v->boolean;
    }
    std::optional<std::uint64_t> number(std::string_view key) {
        const JsonValue* v = take(key);
        std::uint64_t n = 0;
        if (v == nullptr || v->kind != Kind::Unsigned) return fail(key);
        const auto [end, ec] = std::from_chars(v->text.data(), v->text.data() + v->text.size(), n);
        if (ec != std::errc() || end != v->text.data() + v->text.size()) return fail(key);
        return n;
    }
    const JsonValue* array(std::string_view key) {
        const JsonValue* v = take(key);
        if (v == nullptr || v->kind != Kind::Array) {
            (void)fail(key);
            return nullptr;
        }
        return v;
    }
    // Every member was taken, each was what it should be.
    [[nodiscard]] Status done() const {
        if (!error_.empty()) return bad_reply(error_);
        if (taken_ != object_.members.size()) return bad_reply(fmt::format("{} has unknown members", what_));
        return Done{};
    }

private:
    std::nullopt_t fail(std::string_view key) {
        if (error_.empty()) error_ = fmt::format("{} has no valid \"{}\"", what_, key);
        return std::nullopt;
    }
    const JsonValue& object_;
    std::string_view what_;
    std::size_t taken_ = 0;
    std::string error_;
};

std::optional<Outcome> outcome_named(std::string_view name) {
    for (const OutcomeInfo& row : all_outcomes()) {
        if (row.name == name) return row.outcome;
    }
    return std::nullopt;
}

std::optional<Match> match_named(const std::optional<std::string>& name) {
    if (!name) return Match::None;
    for (Match m : {Match::Cgroup, Match::ApiSock}) {
        if (match_name(m) == *name) return m;
    }
    return std::nullopt;
}

Result<TargetView> target_of(const JsonValue& object, CallView& view, bool first) {
    if (object.kind != Kind::Object) return bad_reply("a target is not an object");
    Reader r(object, "a target");
    const auto pid = r.number("pid");
    const auto signal = r.string("signal");
    const auto code = r.number("code");
    const auto outcome_word = r.string("outcome");
    const auto match_word = r.nullable("match");
    const auto reason = r.string("reason");
    const auto dry_run = r.boolean("dry_run");
    const auto cgroup = r.nullable("cgroup");
    const auto exe = r.nullable("exe");
    const auto api_sock = r.nullable("api_sock");
    const auto escalated = r.boolean("escalated");
    const auto door = r.string("door");
    if (auto checked = r.done(); !checked) return std::move(checked).failure();
    if (*pid > UINT32_MAX) return bad_reply("a pid is out of range");
    if (first) {
        view.signal_name = *signal;
        view.dry_run = *dry_run;
    } else if (*signal != view.signal_name || *dry_run != view.dry_run) {
        return bad_reply("its targets disagree on the signal");
    }
    const bool would = *outcome_word == "would-deliver";
    const auto outcome = would ? std::optional(Outcome::Delivered) : outcome_named(*outcome_word);
    if (!outcome || would != (view.dry_run && outcome == Outcome::Delivered)) {
        return bad_reply(fmt::format("a target's outcome \"{}\" is unknown", excerpt(*outcome_word)));
    }
    if (*code != static_cast<std::uint64_t>(exit_code(*outcome)))
        return bad_reply("a target's code is not its outcome's");
    const auto match = match_named(match_word);
    if (!match) return bad_reply("a target's match is unknown");
    if (*door != door_name(Door::Socket)) return bad_reply("a target was not served by the socket door");
    return TargetView{
        static_cast<std::uint32_t>(*pid), *outcome, *reason, *match, cgroup.value_or(""), exe, api_sock, *escalated};
}

Result<ListedProcess> process_of(const JsonValue& object) {
    if (object.kind != Kind::Object) return bad_reply("a process is not an object");
    Reader r(object, "a process");
    const auto pid = r.number("pid");
    const auto match_word = r.string("match");
    const auto exe = r.nullable("exe");
    const auto cgroup = r.nullable("cgroup");
    const auto api_sock = r.nullable("api_sock");
    const auto start_time = r.number("start_time");
    const auto door = r.string("door");
    if (auto checked = r.done(); !checked) return std::move(checked).failure();
    const auto match = match_named(match_word);
    if (*pid > UINT32_MAX || !match || *match == Match::None) return bad_reply("a process is out of range");
    if (*door != door_name(Door::Socket)) return bad_reply("a process was not listed by the socket door");
    return ListedProcess{static_cast<std::uint32_t>(*pid), *match, cgroup.value_or(""), exe, api_sock, *start_time};
}

Status read_targets(const JsonValue& array, CallView& view) {
    for (const JsonValue& item : array.items) {
        auto target = target_of(item, view, view.targets.empty());
        if (!target) return std::move(target).failure();
        view.targets.push_back(std::move(target).value());
    }
    return Done{};
}

// The parameters of an io.banger.Signal error: the call refused as a whole.
Status read_refusal(std::string_view name, const JsonValue& parameters, CallView& view) {
    std::optional<Outcome> outcome;
    for (const OutcomeInfo& row : all_outcomes()) {
        if (row.outcome != Outcome::Delivered && error_name(row.outcome) == name) outcome = row.outcome;
    }
    if (!outcome) {
        // Not a refusal of the call but of the message: our request was not
        // what the door takes (a version apart?). Its one parameter says why.
        std::string said;
        for (const auto& [key, value] : parameters.members) {
            if (value.kind == Kind::String) said = fmt::format(" ({}: {})", key, excerpt(value.text, 200));
        }
        return Failure{Outcome::SystemError,
                       fmt::format("the socket door refused the request: {}{}", excerpt(name, 100), said)};
    }
    Reader r(parameters, "the error");
    const auto code = r.number("code");
    const auto reason = r.string("reason");
    const JsonValue* targets = r.array("targets");
    if (auto checked = r.done(); !checked) return checked;
    if (*code != static_cast<std::uint64_t>(exit_code(*outcome)))
        return bad_reply("the error's code is not its outcome's");
    view.call_failure = Failure{*outcome, *reason};
    return read_targets(*targets, view);
}

}  // namespace

std::variant<Asked, CallError> read_call(std::string_view message) {
    if (message.size() > kMaxCall) return malformed(fmt::format("the call is longer than {} bytes", kMaxCall));
    auto parsed = parse_strict_json(message, kCallLimits);
    if (!parsed) return malformed(parsed.failure().reason);
    const JsonValue& call = parsed.value();
    if (call.kind != Kind::Object) return malformed("a call is a JSON object");
    static const JsonValue kNoParameters{.kind = Kind::Object};
    const JsonValue* method = nullptr;
    const JsonValue* parameters = &kNoParameters;
    bool oneway = false;
    bool more = false;
    for (const auto& [key, value] : call.members) {
        if (key == "method" && value.kind == Kind::String) {
            method = &value;
        } else if (key == "parameters" && value.kind == Kind::Object) {
            parameters = &value;
        } else if ((key == "oneway" || key == "more") && value.kind == Kind::Boolean) {
            (key == "oneway" ? oneway : more) = value.boolean;
        } else if (key == "method" || key == "parameters" || key == "oneway" || key == "more") {
            return malformed(fmt::format("\"{}\" has the wrong type", key));
        } else {
            return malformed(fmt::format("a call has no member \"{}\"", excerpt(key)));
        }
    }
    if (method == nullptr) return malformed("the call names no method");
    if (oneway && more) return malformed("a call cannot be both oneway and more");
    auto asked = asked_of(method->text, *parameters);
    if (auto* ok = std::get_if<Asked>(&asked)) ok->oneway = oneway;
    return asked;
}

std::string info_reply() {
    Json parameters;
    parameters["vendor"] = "banger";
    parameters["product"] = "banger-signal";
    parameters["version"] = BANGER_SIGNAL_VERSION;
    parameters["url"] = "man:banger-signal(8)";
    parameters["interfaces"] = Json::array({kInterface, kServiceInterface});
    return with_nul_free(Json{{"parameters", parameters}});
}

std::string description_reply(std::string_view interface) {
    static constexpr std::string_view kServiceDescription =
        "# The interface every Varlink service provides: what it is, and what it implements.\n"
        "interface org.varlink.service\n"
        "\n"
        "# The service, and the interfaces it implements.\n"
        "method GetInfo() -> (\n"
        "  vendor: string,\n"
        "  product: string,\n"
        "  version: string,\n"
        "  url: string,\n"
        "  interfaces: []string\n"
        ")\n"
        "\n"
        "# The description of one interface the service implements.\n"
        "method GetInterfaceDescription(interface: string) -> (description: string)\n"
        "\n"
        "error InterfaceNotFound (interface: string)\n"
        "error MethodNotFound (method: string)\n"
        "error MethodNotImplemented (method: string)\n"
        "error InvalidParameter (parameter: string)\n"
        "error PermissionDenied ()\n"
        "error ExpectedMore ()\n";
    const std::string description =
        interface == kInterface ? interface_description() : std::string(kServiceDescription);
    return with_nul_free(Json{{"parameters", Json{{"description", description}}}});
}

std::string error_reply(const CallError& error) {
    return with_nul_free(Json{{"error", error.name}, {"parameters", Json{{error.key, error.value}}}});
}

std::string call_reply(const CallView& view) {
    Json targets = Json::array();
    for (const TargetView& t : view.targets) targets.push_back(target_object(view, t));
    if (view.call_failure) {
        const Failure& f = *view.call_failure;
        Json parameters{{"code", exit_code(f.outcome)}, {"reason", f.reason}, {"targets", std::move(targets)}};
        return with_nul_free(Json{{"error", error_name(f.outcome)}, {"parameters", std::move(parameters)}});
    }
    Json parameters{{"code", exit_code_of(view)}};
    if (view.list) {
        Json processes = Json::array();
        for (const ListedProcess& p : view.listed) processes.push_back(listed_object(view, p));
        parameters["processes"] = std::move(processes);
    } else {
        parameters["targets"] = std::move(targets);
    }
    return with_nul_free(Json{{"parameters", std::move(parameters)}});
}

std::string error_name(Outcome outcome) { return fmt::format("{}.{}", kInterface, camel(info(outcome).name)); }

std::string interface_description() {
    std::string idl =
        "# banger-signal: signal the Firecracker VMs that bangerd-root.service started,\n"
        "# and nothing else. One io.banger.Signal call per connection (org.varlink.service\n"
        "# calls may come first); the caller is the peer the kernel names, and polkit\n"
        "# decides as for pkexec banger-signal. Every field: banger-signal(8).\n"
        "interface io.banger.Signal\n"
        "\n"
        "# One target, as banger-signal --json prints it; code is its exit status.\n"
        "type Target (\n"
        "  pid: int,\n"
        "  signal: string,\n"
        "  code: int,\n"
        "  outcome: string,\n"
        "  match: ?string,\n"
        "  reason: string,\n"
        "  dry_run: bool,\n"
        "  cgroup: ?string,\n"
        "  exe: ?string,\n"
        "  api_sock: ?string,\n"
        "  escalated: bool,\n"
        "  door: string\n"
        ")\n"
        "\n"
        "# One process List accepts, as banger-signal --list --json prints it.\n"
        "type Process (\n"
        "  pid: int,\n"
        "  match: string,\n"
        "  exe: ?string,\n"
        "  cgroup: ?string,\n"
        "  api_sock: ?string,\n"
        "  start_time: int,\n"
        "  door: string\n"
        ")\n"
        "\n"
        "# Signal each pid that is a banger VM, as banger-signal --pid P... does, or with\n"
        "# all (and no pids) every process List would show: signal (default TERM),\n"
        "# dry_run, and wait or kill_after in seconds (at most three decimals). code is\n"
        "# the call's exit status; a call refused as a whole is an error named after its\n"
        "# outcome instead.\n"
        "method Signal(\n"
        "  pids: ?[]int,\n"
        "  all: ?bool,\n"
        "  signal: ?string,\n"
        "  dry_run: ?bool,\n"
        "  wait: ?float,\n"
        "  kill_after: ?float\n"
        ") -> (code: int, targets: []Target)\n"
        "\n"
        "# Every process banger-signal would accept, as banger-signal --list does.\n"
        "method List() -> (code: int, processes: []Process)\n";
    for (const OutcomeInfo& row : all_outcomes()) {
        if (row.outcome == Outcome::Delivered) continue;
        idl += fmt::format("\n# {} (exit status {})\nerror {} (code: int, reason: string, targets: []Target)\n",
                           row.meaning, row.exit_code, camel(row.name));
    }
    idl +=
        "\n# The message is no call this interface takes: not JSON, too long, a key\n"
        "# given twice, a member a call does not have. Nothing was done.\n"
        "error MalformedRequest (reason: string)\n";
    return idl;
}

std::string info_call() { return with_nul_free(Json{{"method", "org.varlink.service.GetInfo"}}); }

Result<std::string> info_version(std::string_view reply) {
    auto parsed = parse_strict_json(reply, kReplyLimits);
    if (!parsed) return bad_reply(parsed.failure().reason);
    const JsonValue* parameters = parsed.value().find("parameters");
    if (parameters == nullptr) return bad_reply("it has no parameters");
    const JsonValue* product = parameters->find("product");
    const JsonValue* version = parameters->find("version");
    if (product == nullptr || product->text != "banger-signal" || version == nullptr || version->kind != Kind::String) {
        return bad_reply("it is not banger-signal's GetInfo");
    }
    return version->text;
}

std::string call_for(const Request& request) {
    if (request.list) return with_nul_free(Json{{"method", "io.banger.Signal.List"}, {"parameters", Json::object()}});
    Json parameters;
    Json pids = Json::array();
    for (const std::string& arg : request.pid_args) {
        // Checked by check_arguments() before anything is sent: digits only.
        std::uint64_t pid = 0;
        (void)std::from_chars(arg.data(), arg.data() + arg.size(), pid);
        pids.push_back(pid);
    }
    if (request.all) {
        parameters["all"] = true;
    } else {
        parameters["pids"] = std::move(pids);
    }
    if (request.signal_arg) parameters["signal"] = *request.signal_arg;
    if (request.dry_run) parameters["dry_run"] = true;
    // Durations as numbers of seconds: "5" stays an integer, "0.25" a
    // float whose shortest form is the same three decimals at most.
    for (const auto& [name, arg] : {std::pair{"wait", &request.wait_arg}, {"kill_after", &request.kill_after_arg}}) {
        if (!*arg) continue;
        if ((*arg)->find('.') == std::string::npos) {
            std::uint64_t seconds = 0;
            (void)std::from_chars((*arg)->data(), (*arg)->data() + (*arg)->size(), seconds);
            parameters[name] = seconds;
        } else {
            parameters[name] = std::stod(**arg);
        }
    }
    return with_nul_free(Json{{"method", "io.banger.Signal.Signal"}, {"parameters", std::move(parameters)}});
}

Result<CallView> read_reply(std::string_view message, const Request& request) {
    auto parsed = parse_strict_json(message, kReplyLimits);
    if (!parsed) return bad_reply(parsed.failure().reason);
    const JsonValue& reply = parsed.value();
    if (reply.kind != Kind::Object) return bad_reply("not an object");
    CallView view;
    view.door = Door::Socket;
    view.list = request.list;
    view.all = request.all;
    view.dry_run = request.dry_run;
    Reader envelope(reply, "the reply");
    const JsonValue* error = envelope.take("error");
    const JsonValue* parameters = envelope.take("parameters");
    if (auto checked = envelope.done(); !checked) return std::move(checked).failure();
    if (parameters == nullptr || parameters->kind != Kind::Object) return bad_reply("it has no parameters");
    if (error != nullptr) {
        if (error->kind != Kind::String) return bad_reply("its error is not a name");
        if (auto refused = read_refusal(error->text, *parameters, view); !refused) return std::move(refused).failure();
        return view;
    }
    Reader r(*parameters, "the parameters");
    const auto code = r.number("code");
    const JsonValue* items = r.array(request.list ? "processes" : "targets");
    if (auto checked = r.done(); !checked) return std::move(checked).failure();
    if (request.list) {
        for (const JsonValue& item : items->items) {
            auto process = process_of(item);
            if (!process) return std::move(process).failure();
            view.listed.push_back(std::move(process).value());
        }
    } else if (auto read = read_targets(*items, view); !read) {
        return std::move(read).failure();
    }
    if (*code != static_cast<std::uint64_t>(exit_code_of(view))) return bad_reply("its code is not its targets'");
    return view;
}

}  // namespace banger::varlink
