#include "report.hpp"

#include "build_config.hpp"
#include "policy/authorization.hpp"
#include "report_json.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace banger {

namespace {

bool succeeded(Outcome o) noexcept { return o == Outcome::Delivered; }

std::string audit_quote(std::string_view text) {
    std::string out = "\"";
    for (char c : printable(text)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string_view audit_match(Match match) noexcept { return match == Match::None ? "none" : match_name(match); }

std::string audit_caller(uid_t uid, int pid, Door door) {
    return fmt::format("caller_uid={} caller_pid={} door={}", uid, pid, door_name(door));
}

std::string_view outcome_name(bool dry_run, Outcome o) noexcept {
    if (o == Outcome::Delivered && dry_run) return "would-deliver";
    return info(o).name;
}

// A value that may have come from the caller (a refused signal name): as is
// when it is one plain word, else quoted, so that it can never add a field.
std::string audit_word(std::string_view text) {
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
               c == '-';
    });
    return plain ? std::string(text) : audit_quote(text);
}

std::string_view polkit_word(PolkitDecision d) noexcept {
    switch (d) {
        case PolkitDecision::NotAsked: return "-";
        case PolkitDecision::NotNeeded: return "not-needed";
        case PolkitDecision::Yes: return "yes";
        case PolkitDecision::No: return "no";
    }
    return "-";
}

std::string signal_abbrev(int sig) {
    const char* name = ::sigabbrev_np(sig);
    return name != nullptr ? name : "?";
}

// The one sentence for a target's outcome (JSON "reason", audit "reason").
std::string reason_of(const CallReport& call, const TargetReport& t) {
    switch (t.outcome) {
        case Outcome::Delivered: {
            std::string said = fmt::format("{} {} (match: {})", call.dry_run ? "would deliver" : "delivered",
                                           call.signal_name, match_name(t.match));
            if (t.exited) said += t.escalated ? "; escalated to KILL, then exited" : "; exited";
            return said;
        }
        case Outcome::StillRunning: {
            const auto limit = call.wait.value_or(std::chrono::milliseconds{0}).count();
            if (t.interrupted_by != 0) {
                return fmt::format("still running when SIG{} ended the wait{}", signal_abbrev(t.interrupted_by),
                                   t.escalated ? " (after KILL)" : "");
            }
            if (t.caller_hung_up) {
                return fmt::format(
                    "still running when the caller stopped waiting (it closed its end of the "
                    "connection){}",
                    t.escalated ? " (after KILL)" : "");
            }
            if (call.kill_after) return fmt::format("still running after KILL (sent after {} ms)", limit);
            return fmt::format("still running {} ms after {}", limit, call.signal_name);
        }
        case Outcome::UsageError:
        case Outcome::NoSuchProcess:
        case Outcome::NotManaged:
        case Outcome::SignalRefused:
        case Outcome::Protected:
        case Outcome::NotAuthorized:
        case Outcome::ConfigError:
        case Outcome::SystemError: break;
    }
    if (!t.api_sock_reason) return t.reason;
    return fmt::format("{}; no api-sock match: {}", t.reason, *t.api_sock_reason);
}

// What the caller is told of a target: all of it, except of a refused
// process that is not the caller's own (see TargetReport::private_to_caller).
TargetView view_of(const CallReport& call, const TargetReport& t) {
    TargetView seen{t.pid, t.outcome, reason_of(call, t), t.match, t.cgroup, t.exe, t.api_sock, t.escalated};
    if (!t.private_to_caller) return seen;
    seen.cgroup.clear();
    seen.exe.reset();
    seen.api_sock.reset();
    // Not managed, or a system error while judging it: either reason may come
    // from its own files (its command line names the socket path).
    if (t.outcome == Outcome::NotManaged && t.api_sock_reason) {
        seen.reason =
            "not in the service cgroup, and not a firecracker serving an api socket in the runtime dir "
            "(not your process: the details are in the audit log only)";
    } else if (t.outcome == Outcome::SystemError) {
        seen.reason =
            "a system error while judging a process that is not yours (the details are in the audit log only)";
    } else {
        seen.reason = t.reason;
    }
    return seen;
}

std::string_view outcome_name(const CallView& call, Outcome o) noexcept { return outcome_name(call.dry_run, o); }

nlohmann::ordered_json nullable(const std::optional<std::string>& s) {
    return s ? nlohmann::ordered_json(*s) : nlohmann::ordered_json(nullptr);
}

// No door was used: null, so that a reader never takes "none" for a door.
nlohmann::ordered_json door_json(Door door) {
    return door == Door::None ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(door_name(door));
}

nlohmann::ordered_json nullable_cgroup(const std::string& cgroup) {
    return cgroup.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(cgroup);
}

}  // namespace

std::string gate_refusal_reason() {
    return fmt::format("polkit refused {} for this user; members of group '{}' are allowed", kActionRun,
                       BANGER_PRIVILEGED_GROUP);
}

std::string elevation_reason(const PkexecRefusal& refusal) {
    switch (refusal.cause) {
        case ElevationCause::Dismissed: return "the authentication request was dismissed";
        case ElevationCause::NotAuthorized: return gate_refusal_reason();
        case ElevationCause::PolkitUnavailable:
            return fmt::format("polkit cannot be asked (is polkitd running?); pkexec said: {}", refusal.line);
        case ElevationCause::PkexecFailed: break;
    }
    return fmt::format("pkexec failed before polkit was asked; it said: {}", refusal.line);
}

std::string_view door_name(Door door) noexcept {
    switch (door) {
        case Door::None: return "none";  // never in an audit line: only a door's privileged part writes them
        case Door::Root: return "root";
        case Door::Pkexec: return "pkexec";
        case Door::Socket: return "socket";
    }
    return "root";
}

CallView caller_view(const CallReport& report) {
    CallView view{report.door,  report.signal_name,  report.dry_run,   report.list,
                  report.all,   report.call_failure, report.elevation, {},
                  report.listed};
    view.targets.reserve(report.targets.size());
    for (const auto& t : report.targets) view.targets.push_back(view_of(report, t));
    return view;
}

int exit_code_of(const CallView& view) noexcept {
    for (const auto& target : view.targets) {
        if (!succeeded(target.outcome)) return exit_code(target.outcome);
    }
    if (view.call_failure) return exit_code(view.call_failure->outcome);
    return 0;
}

std::vector<std::string> human_lines(const CallView& view, bool verbose) {
    std::vector<std::string> lines;
    if (view.call_failure) {
        const auto& f = *view.call_failure;
        lines.push_back(fmt::format("banger-signal: {}: {}", info(f.outcome).summary, printable(f.reason)));
        if (f.outcome == Outcome::UsageError) lines.emplace_back("Try 'banger-signal --help' for more information.");
        return lines;
    }
    if (view.list) return lines;  // the listing goes to stdout (list_table / json_lines)
    if (view.all && view.targets.empty() && verbose) {
        lines.emplace_back("banger-signal: --all: no banger VM to signal");
    }
    for (const auto& t : view.targets) {
        if (succeeded(t.outcome)) {
            if (!verbose) continue;
            std::string via = t.match == Match::Cgroup    ? fmt::format("cgroup {}", t.cgroup)
                              : t.match == Match::ApiSock ? fmt::format("api socket {}", t.api_sock.value_or(""))
                                                          : std::string("-");
            lines.push_back(fmt::format("banger-signal: pid {}: {} {} (match: {})", t.pid,
                                        view.dry_run ? "would deliver" : "delivered", view.signal_name,
                                        printable(via)));
        } else {
            lines.push_back(
                fmt::format("banger-signal: pid {}: {}: {}", t.pid, info(t.outcome).summary, printable(t.reason)));
        }
    }
    return lines;
}

std::vector<std::string> list_table(const CallView& view) {
    std::vector<std::string> lines;
    lines.push_back(
        fmt::format("{:>8} {:<8} {:>12} {:<28} {:<40} {}", "PID", "MATCH", "START", "EXE", "CGROUP", "API-SOCK"));
    for (const auto& t : view.listed) {
        lines.push_back(fmt::format("{:>8} {:<8} {:>12} {:<28} {:<40} {}", t.pid, match_name(t.match), t.start_time,
                                    printable(t.exe.value_or("-")), printable(t.cgroup.empty() ? "-" : t.cgroup),
                                    printable(t.api_sock.value_or("-"))));
    }
    return lines;
}

nlohmann::ordered_json target_object(const CallView& view, const TargetView& t) {
    nlohmann::ordered_json j;
    j["pid"] = t.pid;
    j["signal"] = view.signal_name;
    j["code"] = exit_code(t.outcome);
    j["outcome"] = outcome_name(view, t.outcome);
    j["match"] = t.match == Match::None ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(match_name(t.match));
    j["reason"] = t.reason;
    j["dry_run"] = view.dry_run;
    j["cgroup"] = nullable_cgroup(t.cgroup);
    j["exe"] = nullable(t.exe);
    j["api_sock"] = nullable(t.api_sock);
    j["escalated"] = t.escalated;
    if (view.elevation) j["elevation"] = cause_name(view.elevation->cause);
    j["door"] = door_json(view.door);
    return j;
}

nlohmann::ordered_json listed_object(const CallView& view, const ListedProcess& t) {
    nlohmann::ordered_json j;
    j["pid"] = t.pid;
    j["match"] = match_name(t.match);
    j["exe"] = nullable(t.exe);
    j["cgroup"] = nullable_cgroup(t.cgroup);
    j["api_sock"] = nullable(t.api_sock);
    j["start_time"] = t.start_time;
    j["door"] = door_json(view.door);
    return j;
}

std::string json_line(const nlohmann::ordered_json& object) {
    // Hostile bytes (invalid UTF-8 in a path) must not abort the dump.
    return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::vector<std::string> json_lines(const CallView& view) {
    std::vector<std::string> lines;
    if (view.list) {
        for (const auto& t : view.listed) lines.push_back(json_line(listed_object(view, t)));
        return lines;
    }
    for (const auto& t : view.targets) lines.push_back(json_line(target_object(view, t)));
    return lines;
}

std::string sending_audit_line(uid_t caller_uid, int caller_pid, Door door, const TargetReport& target,
                               std::string_view signal) {
    return fmt::format("{} pid={} signal={} event=sending match={} cgroup={} exe={}",
                       audit_caller(caller_uid, caller_pid, door), target.pid, audit_word(signal),
                       audit_match(target.match), audit_quote(target.cgroup), audit_quote(target.exe.value_or("")));
}

std::string stalled_audit_line(uid_t caller_uid, int caller_pid, Door door, std::uint32_t pid,
                               std::chrono::milliseconds limit) {
    // pid 0: no process was being judged yet (the pass over /proc itself).
    const std::string target = pid == 0 ? std::string() : fmt::format(" pid={}", pid);
    return fmt::format("{}{} event=stalled limit_ms={} reason={}", audit_caller(caller_uid, caller_pid, door), target,
                       limit.count(),
                       audit_quote("reading its facts did not end in time: a file system that does not answer?"));
}

std::string stalled_reason(std::chrono::seconds limit) {
    return fmt::format(
        "a target's facts could not be read within {} s: a file system that does not answer? (the audit log names the "
        "process); nothing was signalled",
        limit.count());
}

std::vector<AuditLine> audit_lines(const CallReport& report) {
    std::vector<AuditLine> lines;
    const std::string who = audit_caller(report.caller_uid, report.caller_pid, report.door);
    if (report.targets.empty() && report.call_failure) {
        lines.push_back({report.call_failure->outcome,
                         fmt::format("{}{} outcome={} code={} reason={}", who,
                                     report.list  ? " list=1"
                                     : report.all ? " all=1"
                                                  : "",
                                     info(report.call_failure->outcome).name, exit_code(report.call_failure->outcome),
                                     audit_quote(report.call_failure->reason))});
        return lines;
    }
    if (report.list) {
        lines.push_back({Outcome::Delivered, fmt::format("{} list=1 accepted={}", who, report.listed.size())});
        return lines;
    }
    if (report.all && report.targets.empty()) {
        // --all found nothing to signal: on record all the same.
        lines.push_back({Outcome::Delivered, fmt::format("{} all=1 signal={} dry_run={} accepted=0", who,
                                                         audit_word(report.signal_name), report.dry_run ? 1 : 0)});
        return lines;
    }
    for (const auto& t : report.targets) {
        lines.push_back(
            {t.outcome, fmt::format("{} pid={} signal={} outcome={} code={} match={} polkit={} dry_run={} escalated={} "
                                    "cgroup={} exe={} reason={}",
                                    who, t.pid, audit_word(report.signal_name), outcome_name(report.dry_run, t.outcome),
                                    exit_code(t.outcome), audit_match(t.match), polkit_word(t.polkit),
                                    report.dry_run ? 1 : 0, t.escalated ? 1 : 0, audit_quote(t.cgroup),
                                    audit_quote(t.exe.value_or("")), audit_quote(reason_of(report, t)))});
    }
    return lines;
}

}  // namespace banger
