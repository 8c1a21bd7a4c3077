#include "policy/authorization.hpp"

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

std::string_view polkit_action_for(const Signal& signal) noexcept {
    return signal.is_kill() ? kActionKill : kActionSend;
}

std::vector<std::pair<std::string, std::string>> polkit_details(int pid, const Signal& signal, Match match,
                                                                std::string_view cgroup, std::string_view exe) {
    return {
        {"pid", std::to_string(pid)},
        {"signal", std::string(signal.name())},
        {"match", std::string(match_name(match))},
        {"cgroup", std::string(cgroup)},
        {"exe", std::string(exe)},
    };
}

PolkitQuery gate_query(const Subject& subject, std::string_view program) {
    return PolkitQuery{subject.pid,
                       subject.uid,
                       subject.start_time,
                       subject.pidfd,
                       std::string(kActionRun),
                       {{"door", "socket"}, {"program", std::string(program)}},
                       0};
}

bool takes_pidfd_subjects(std::string_view version) noexcept {
    // The leading number: "126" is 126, "0.105" (the 0.x series) is 0.
    unsigned major = 0;
    std::size_t digits = 0;
    for (char c : version) {
        if (c < '0' || c > '9' || digits == 6) break;
        major = major * 10 + static_cast<unsigned>(c - '0');
        ++digits;
    }
    return digits > 0 && major >= 124;
}

std::optional<Failure> refuse_undescribable(const AcceptedTarget& target) {
    for (auto [what, value] : {std::pair{"cgroup", target.cgroup}, std::pair{"executable", target.exe}}) {
        if (!is_valid_utf8(value)) {
            return Failure{Outcome::NotAuthorized,
                           fmt::format("its {} is not valid UTF-8, so polkit's rules could not see it as it is", what)};
        }
    }
    return std::nullopt;
}

std::vector<PolkitQuery> polkit_queries(std::span<const AcceptedTarget> targets, const Signal& signal,
                                        bool may_escalate, const Subject& subject) {
    std::vector<Signal> signals{signal};
    if (may_escalate && !signal.is_kill()) signals.push_back(parse_signal("KILL").value());
    std::vector<PolkitQuery> queries;
    queries.reserve(targets.size() * signals.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const AcceptedTarget& t = targets[i];
        for (const Signal& s : signals) {
            queries.push_back(PolkitQuery{subject.pid, subject.uid, subject.start_time, subject.pidfd,
                                          std::string(polkit_action_for(s)),
                                          polkit_details(t.pid, s, t.match, t.cgroup, t.exe), i});
        }
    }
    return queries;
}

std::vector<std::optional<Failure>> fold_answers(const std::vector<PolkitQuery>& queries,
                                                 const std::vector<Status>& answers, std::size_t target_count) {
    std::vector<std::optional<Failure>> denied(target_count);
    for (std::size_t k = 0; k < queries.size(); ++k) {
        std::optional<Failure>& slot = denied[queries[k].target];
        if (slot) continue;
        // A check without an answer allows nothing.
        if (k >= answers.size()) {
            slot = Failure{Outcome::NotAuthorized, "polkit gave no answer"};
        } else if (!answers[k]) {
            slot = answers[k].failure();
        }
    }
    return denied;
}

}  // namespace banger
