#include "examine.hpp"

#include "sys/proc_facts.hpp"
#include "sys/sock_diag.hpp"
#include "sys/systemd.hpp"

namespace banger {

Judgement judge_pinned(const PinnedProcess& pinned, const Scope& scope) {
    TargetFacts facts = gather_facts(pinned);
    Verdict verdict = judge_target(facts, scope);
    if (verdict.kind == Verdict::Kind::NeedsCommandLine) {
        facts.cmdline = read_command_line(pinned);
        verdict = judge_target(facts, scope);
    }
    if (verdict.kind == Verdict::Kind::NeedsSocketProof) {
        const Status proof = serves_unix_socket_at(pinned, std::string(scope.runtime_dir), *verdict.api_sock);
        verdict = judge_socket_proof(std::move(verdict), proof);
    }
    return Judgement{std::move(verdict), std::move(facts.exe)};
}

ServiceProcessGuard::ServiceProcessGuard(std::string_view service_cgroup) : unit_(service_unit(service_cgroup)) {}

std::optional<Failure> ServiceProcessGuard::refusal(std::uint32_t pid, Match match, std::int64_t ppid) {
    if (!unit_ || match != Match::Cgroup || !may_be_service_process(ppid)) return std::nullopt;
    if (!known_) known_ = systemd_runs() ? ask_service_processes(*unit_) : Result<ServiceProcesses>(ServiceProcesses{});
    if (!*known_) return known_->failure();
    return refuse_service_process(pid, known_->value(), *unit_);
}

}  // namespace banger
