#include <doctest/doctest.h>

#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "door/varlink.hpp"
#include "policy/pid.hpp"

using namespace banger;
using varlink::Asked;
using varlink::CallError;

namespace {

CallError refused(std::string_view message) {
    auto r = varlink::read_call(message);
    REQUIRE_MESSAGE(std::holds_alternative<CallError>(r), message);
    return std::get<CallError>(r);
}

Asked taken(std::string_view message) {
    auto r = varlink::read_call(message);
    if (auto* e = std::get_if<CallError>(&r)) FAIL_CHECK(message << " refused: " << e->name << " " << e->value);
    REQUIRE(std::holds_alternative<Asked>(r));
    return std::get<Asked>(r);
}

std::string signal_call(std::string_view parameters) {
    return std::string(R"({"method":"io.banger.Signal.Signal","parameters":)") + std::string(parameters) + "}";
}

CallView a_call() {
    CallView v;
    v.door = Door::Socket;
    v.signal_name = "KILL";
    v.targets.push_back(TargetView{.pid = 10,
                                   .outcome = Outcome::Delivered,
                                   .reason = "delivered KILL (match: cgroup)",
                                   .match = Match::Cgroup,
                                   .cgroup = "/s/vm",
                                   .exe = "/usr/bin/firecracker"});
    v.targets.push_back(TargetView{
        .pid = 11, .outcome = Outcome::NotManaged, .reason = "cgroup /u is not within /s", .cgroup = "/u\xff"});
    v.targets.push_back(TargetView{.pid = 12,
                                   .outcome = Outcome::Delivered,
                                   .reason = "delivered KILL (match: api-sock)",
                                   .match = Match::ApiSock,
                                   .exe = "/usr/bin/firecracker",
                                   .api_sock = "/run/banger/a.sock",
                                   .escalated = true});
    return v;
}

Request a_request() {
    Request r;
    r.pid_args = {"10", "11", "12"};
    r.signal_arg = "kill";
    return r;
}

}  // namespace

TEST_CASE("varlink: a message that is no call gets MalformedRequest") {
    const std::string too_long = signal_call(R"({"pids":[)" + std::string(varlink::kMaxCall, ' ') + "5]}");
    const char* rows[] = {
        "",
        "not json",
        "[]",
        "\"io.banger.Signal.Signal\"",
        R"({"parameters":{}})",                                                    // no method
        R"({"method":5})",                                                         // wrong type
        R"({"method":"io.banger.Signal.List","parameters":[]})",                   //
        R"({"method":"io.banger.Signal.List","more":"yes"})",                      //
        R"({"method":"io.banger.Signal.List","upgrade":true})",                    // a member we do not take
        R"({"method":"io.banger.Signal.List","oneway":true,"more":true})",         //
        R"({"method":"io.banger.Signal.List","method":"io.banger.Signal.List"})",  // a key twice
        R"({"method":"io.banger.Signal.Signal","parameters":{"pids":[5],"pids":[6]}})",
        R"({"method":"io.banger.Signal.Signal","parameters":{"pids":[[[5]]]}})",  // too deep
    };
    for (const char* message : rows) {
        CAPTURE(message);
        const CallError e = refused(message);
        CHECK(e.name == "io.banger.Signal.MalformedRequest");
        CHECK(e.key == "reason");
        CHECK_FALSE(e.value.empty());
    }
    CHECK(refused(too_long).value.find("longer than") != std::string::npos);
}

TEST_CASE("varlink: wrong parameters get InvalidParameter, naming the first") {
    struct Row {
        std::string parameters;
        const char* parameter;
    };
    const Row rows[] = {
        {"{}", "pids"},
        {R"({"all":false})", "pids"},
        {R"({"pids":[5],"all":1})", "all"},
        {R"({"pids":5})", "pids"},
        {R"({"pids":["5"]})", "pids"},
        {R"({"pids":[-5]})", "pids"},
        {R"({"pids":[5.0]})", "pids"},
        {R"({"pids":[null]})", "pids"},
        {R"({"pids":[true]})", "pids"},
        {R"({"pids":[5],"signal":15})", "signal"},
        {R"({"pids":[5],"signal":["TERM"]})", "signal"},
        {R"({"pids":[5],"dry_run":"yes"})", "dry_run"},
        {R"({"pids":[5],"dry_run":1})", "dry_run"},
        {R"({"pids":[5],"wait":"5"})", "wait"},
        {R"({"pids":[5],"wait":-1})", "wait"},  // a negative integer is no duration
        {R"({"pids":[5],"wait":-0})", "wait"},  // nor -0 (which would read as 0)
        {R"({"pids":[5],"kill_after":true})", "kill_after"},
        {R"({"pids":[5],"force":true})", "force"},
        {R"({"pids":[5],"list":true})", "list"},
        {R"({"signal":"TERM","pids":[5],"PIDS":[6]})", "PIDS"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.parameters);
        const CallError e = refused(signal_call(row.parameters));
        CHECK(e.name == "org.varlink.service.InvalidParameter");
        CHECK(e.key == "parameter");
        CHECK(e.value == row.parameter);
    }
    CHECK(refused(R"({"method":"io.banger.Signal.List","parameters":{"pids":[5]}})").value == "pids");
    CHECK(refused(R"({"method":"org.varlink.service.GetInfo","parameters":{"x":1}})").value == "x");
    CHECK(refused(R"({"method":"org.varlink.service.GetInterfaceDescription","parameters":{}})").value == "interface");
    CHECK(
        refused(
            R"({"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.banger.Signal","x":1}})")
            .value == "x");
}

TEST_CASE("varlink: the peer's own words come back short and printable") {
    const std::string name(5000, 'x');
    CallError e = refused(R"({"method":"io.banger.Signal.)" + name + R"(","parameters":{}})");
    CHECK(e.name == "org.varlink.service.MethodNotFound");
    CHECK(e.value.size() <= 103);
    e = refused(signal_call(R"({"pids":[5],")" + name + R"(\u001b[31m":1})"));
    CHECK(e.value.size() <= 103);
    e = refused(signal_call(R"({"pids":[5],"a\u001b[31mb":1})"));
    CHECK(e.value == "a?[31mb");
}

TEST_CASE("varlink: unknown methods and interfaces") {
    CallError e = refused(R"({"method":"io.banger.Signal.Kill","parameters":{}})");
    CHECK(e.name == "org.varlink.service.MethodNotFound");
    CHECK(e.value == "io.banger.Signal.Kill");
    e = refused(R"({"method":"org.varlink.service.Upgrade"})");
    CHECK(e.name == "org.varlink.service.MethodNotFound");
    e = refused(R"({"method":"io.systemd.Credentials.Encrypt","parameters":{}})");
    CHECK(e.name == "org.varlink.service.InterfaceNotFound");
    CHECK(e.value == "io.systemd.Credentials");
    e = refused(R"({"method":"Signal"})");
    CHECK(e.name == "org.varlink.service.InterfaceNotFound");
    e = refused(R"({"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.other"}})");
    CHECK(e.name == "org.varlink.service.InterfaceNotFound");
    CHECK(e.value == "io.other");
}

TEST_CASE("varlink: a Signal call is the command line's request") {
    Asked a = taken(signal_call(R"({"pids":[4242,0,1],"signal":"sigkill","dry_run":true,"wait":0.25})"));
    CHECK(a.kind == Asked::Kind::Signal);
    CHECK(a.request.pid_args == std::vector<std::string>{"4242", "0", "1"});
    CHECK(a.request.signal_arg == "sigkill");
    CHECK(a.request.dry_run);
    CHECK(a.request.wait_arg == "0.25");
    CHECK_FALSE(a.request.kill_after_arg);
    CHECK_FALSE(a.request.list);
    CHECK_FALSE(a.oneway);

    // Null is absent; the values are judged later, by the command line's rules.
    a = taken(signal_call(R"({"pids":[5],"signal":null,"dry_run":null,"wait":null,"kill_after":10})"));
    CHECK_FALSE(a.request.signal_arg);
    CHECK_FALSE(a.request.wait_arg);
    CHECK(a.request.kill_after_arg == "10");
    a = taken(R"({"method":"io.banger.Signal.Signal","parameters":{"pids":[5]},"oneway":true})");
    CHECK(a.oneway);

    struct Row {
        std::string parameters;
        Outcome outcome;  // what parse_arguments makes of it
    };
    const Row rows[] = {
        {R"({"pids":[]})", Outcome::UsageError},
        {R"({"pids":[5,5]})", Outcome::UsageError},
        {R"({"pids":[4294967295]})", Outcome::UsageError},  // never -1
        {R"({"pids":[99999999999]})", Outcome::UsageError},
        {R"({"pids":[5],"signal":"STOP"})", Outcome::SignalRefused},
        {R"({"pids":[5],"signal":"TERM\u0000"})", Outcome::SignalRefused},
        {R"({"pids":[5],"wait":1e3})", Outcome::UsageError},
        {R"({"pids":[5],"wait":-0.5})", Outcome::UsageError},
        {R"({"pids":[5],"wait":0.0001})", Outcome::UsageError},
        {R"({"pids":[5],"wait":3601})", Outcome::UsageError},
        {R"({"pids":[5],"wait":1,"kill_after":1})", Outcome::UsageError},
        {R"({"pids":[5],"all":true})", Outcome::UsageError},  // --all takes no --pid
    };
    for (const auto& row : rows) {
        CAPTURE(row.parameters);
        auto parsed = parse_arguments(taken(signal_call(row.parameters)).request, kPidMaxLimit);
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.failure().outcome == row.outcome);
    }
    auto ok = parse_arguments(taken(signal_call(R"({"pids":[7],"wait":1.5})")).request, kPidMaxLimit);
    REQUIRE(ok.ok());
    CHECK(ok.value().wait == std::chrono::milliseconds{1500});
}

TEST_CASE("varlink: introspection and List") {
    CHECK(taken(R"({"method":"org.varlink.service.GetInfo"})").kind == Asked::Kind::GetInfo);
    CHECK(taken(R"({"method":"org.varlink.service.GetInfo","parameters":{}})").kind == Asked::Kind::GetInfo);
    Asked a = taken(
        R"({"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"io.banger.Signal"}})");
    CHECK(a.kind == Asked::Kind::GetInterfaceDescription);
    CHECK(a.interface == "io.banger.Signal");
    a = taken(R"({"method":"io.banger.Signal.List","more":true})");
    CHECK(a.kind == Asked::Kind::List);
    CHECK(a.request.list);

    auto info = nlohmann::json::parse(varlink::info_reply());
    CHECK(info["parameters"]["product"] == "banger-signal");
    CHECK(info["parameters"]["interfaces"] == nlohmann::json::array({"io.banger.Signal", "org.varlink.service"}));
    for (const char* iface : {"io.banger.Signal", "org.varlink.service"}) {
        auto d = nlohmann::json::parse(varlink::description_reply(iface));
        CHECK(d["parameters"]["description"].get<std::string>().find(std::string("interface ") + iface + "\n") !=
              std::string::npos);
    }
    auto e = nlohmann::json::parse(
        varlink::error_reply(CallError{"org.varlink.service.InvalidParameter", "parameter", "pids"}));
    CHECK(e == nlohmann::json::parse(
                   R"({"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"pids"}})"));
}

TEST_CASE("varlink: the interface names every way a call can fail, from the outcome table") {
    const std::string idl = varlink::interface_description();
    for (const OutcomeInfo& row : all_outcomes()) {
        if (row.outcome == Outcome::Delivered) continue;
        const std::string name = varlink::error_name(row.outcome);
        CAPTURE(name);
        CHECK(name.rfind("io.banger.Signal.", 0) == 0);
        CHECK(idl.find("\nerror " + name.substr(17) + " (code: int, reason: string, targets: []Target)\n") !=
              std::string::npos);
    }
    CHECK(varlink::error_name(Outcome::NotAuthorized) == "io.banger.Signal.NotAuthorized");
    CHECK(varlink::error_name(Outcome::NoSuchProcess) == "io.banger.Signal.NoSuchProcess");
    CHECK(idl.find("\nerror MalformedRequest (reason: string)\n") != std::string::npos);
    CHECK(idl.find("method Signal(") != std::string::npos);
    // Every field of a target the reply carries is declared.
    const auto object = nlohmann::json::parse(varlink::call_reply(a_call()))["parameters"]["targets"][0];
    for (const auto& [key, value] : object.items()) CHECK(idl.find("  " + key + ": ") != std::string::npos);
}

TEST_CASE("varlink: a reply reads back as the view it was written from") {
    const Request request = a_request();
    const CallView sent = a_call();
    auto got = varlink::read_reply(varlink::call_reply(sent), request);
    REQUIRE(got.ok());
    CHECK(json_lines(got.value()) == json_lines(sent));
    CHECK(human_lines(got.value(), true) == human_lines(sent, true));
    CHECK(exit_code_of(got.value()) == 4);

    // Refused as a whole: the error, its reason and its targets.
    CallView whole;
    whole.door = Door::Socket;
    whole.call_failure = Failure{Outcome::NotAuthorized, "polkit refused org.banger.signal.run"};
    whole.targets = {TargetView{.pid = 10, .outcome = Outcome::NotAuthorized, .reason = "polkit refused"}};
    const std::string reply = varlink::call_reply(whole);
    CHECK(nlohmann::json::parse(reply)["error"] == "io.banger.Signal.NotAuthorized");
    got = varlink::read_reply(reply, request);
    REQUIRE(got.ok());
    CHECK(json_lines(got.value()) == json_lines(whole));
    CHECK(human_lines(got.value(), false) == human_lines(whole, false));
    CHECK(exit_code_of(got.value()) == 7);

    // --list, and a dry run.
    CallView listed;
    listed.door = Door::Socket;
    listed.list = true;
    listed.listed = {ListedProcess{.pid = 9, .match = Match::ApiSock, .api_sock = "/run/banger/x", .start_time = 7}};
    Request list;
    list.list = true;
    got = varlink::read_reply(varlink::call_reply(listed), list);
    REQUIRE(got.ok());
    CHECK(json_lines(got.value()) == json_lines(listed));
    CHECK(list_table(got.value()) == list_table(listed));
    CallView dry = a_call();
    dry.dry_run = true;
    got = varlink::read_reply(varlink::call_reply(dry), request);
    REQUIRE(got.ok());
    CHECK(json_lines(got.value()) == json_lines(dry));
}

TEST_CASE("varlink: a reply the door would not send is a system error") {
    const Request request = a_request();
    auto good = nlohmann::ordered_json::parse(varlink::call_reply(a_call()));
    const auto refused_as = [&](const nlohmann::ordered_json& reply) {
        auto got = varlink::read_reply(reply.dump(), request);
        REQUIRE_FALSE(got.ok());
        CHECK(got.failure().outcome == Outcome::SystemError);
        return got.failure().reason;
    };
    auto bad = good;
    bad["parameters"]["code"] = 0;  // not its targets'
    refused_as(bad);
    bad = good;
    bad["parameters"]["targets"][0]["code"] = 4;  // not its outcome's
    refused_as(bad);
    bad = good;
    bad["parameters"]["targets"][0]["outcome"] = "would-deliver";  // not a dry run
    refused_as(bad);
    bad = good;
    bad["parameters"]["targets"][0]["door"] = "root";
    refused_as(bad);
    bad = good;
    bad["parameters"]["targets"][0]["extra"] = 1;
    refused_as(bad);
    bad = good;
    bad["parameters"]["targets"][1]["signal"] = "TERM";
    refused_as(bad);
    bad = good;
    bad["continues"] = true;
    refused_as(bad);
    bad = good;
    bad["parameters"].erase("targets");
    refused_as(bad);
    CHECK(refused_as(nlohmann::ordered_json::parse(
                         varlink::error_reply(CallError{"org.varlink.service.InvalidParameter", "parameter", "pids"})))
              .find("InvalidParameter (parameter: pids)") != std::string::npos);
    CHECK_FALSE(varlink::read_reply("{\"parameters\":{}}\n", request).ok());
}

TEST_CASE("varlink: the client's call is read as the request it was made from") {
    Request r;
    r.pid_args = {"4242", "77"};
    r.signal_arg = "SIGquit";
    r.dry_run = true;
    for (const char* wait : {"5", "0.5", "1.25", "0.001", "3600", "1.0", "12.750"}) {
        CAPTURE(wait);
        r.wait_arg = wait;
        Asked a = taken(varlink::call_for(r));
        CHECK(a.request.pid_args == r.pid_args);
        CHECK(a.request.signal_arg == r.signal_arg);
        CHECK(a.request.dry_run);
        auto sent = parse_arguments(r, kPidMaxLimit);
        auto read = parse_arguments(a.request, kPidMaxLimit);
        REQUIRE(sent.ok());
        REQUIRE(read.ok());
        CHECK(read.value().wait == sent.value().wait);
    }
    r = Request{};
    r.pid_args = {"5"};
    r.kill_after_arg = "10";
    Asked a = taken(varlink::call_for(r));
    CHECK(a.request.kill_after_arg == "10");
    CHECK_FALSE(a.request.signal_arg);
    CHECK_FALSE(a.request.dry_run);
    r = Request{};
    r.list = true;
    CHECK(taken(varlink::call_for(r)).kind == Asked::Kind::List);
    r = Request{};
    r.all = true;
    r.dry_run = true;
    a = taken(varlink::call_for(r));
    CHECK(a.request.all);
    CHECK(a.request.pid_args.empty());
    CHECK(parse_arguments(a.request, kPidMaxLimit).ok());
}
