#include "examine.hpp"

#include "sys/proc_facts.hpp"
#include "sys/sock_diag.hpp"

namespace banger {

Judgement judge_pinned(const PinnedProcess& pinned, const Scope& scope) {
    TargetFacts facts = gather_facts(pinned);
    Verdict verdict = judge_target(facts, scope);
    if (verdict.kind == Verdict::Kind::NeedsSocketProof) {
        const Status proof = serves_unix_socket_at(pinned, std::string(scope.runtime_dir), *verdict.api_sock);
        verdict = judge_socket_proof(std::move(verdict), proof);
    }
    return Judgement{std::move(verdict), std::move(facts.exe)};
}

}  // namespace banger
