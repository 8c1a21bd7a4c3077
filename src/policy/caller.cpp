#include "policy/caller.hpp"

#include <cstdint>

namespace banger {

std::optional<uid_t> parse_uid(std::string_view text) noexcept {
    if (text.empty() || text.size() > 10) return std::nullopt;
    if (text.size() > 1 && text.front() == '0') return std::nullopt;
    std::uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (n >= UINT32_MAX) return std::nullopt;  // (uid_t)-1 means "no uid"
    return static_cast<uid_t>(n);
}

Result<uid_t> accountable_uid(const Caller& caller) {
    if (!caller.via_pkexec()) return caller.real_uid;
    auto uid = parse_uid(*caller.pkexec_uid_text);
    if (!uid) return Failure{Outcome::NotAuthorized, "PKEXEC_UID is malformed"};
    return *uid;
}

Status authorize_caller(const Caller& caller, bool wants_config_override) {
    if (caller.real_uid != 0 || caller.effective_uid != 0) {
        return Failure{Outcome::NotAuthorized,
                       "banger-signal must run as root: call it through pkexec (pkexec banger-signal --pid PID)"};
    }
    if (auto uid = accountable_uid(caller); !uid) return std::move(uid).failure();
    // --config moves what the privileged binary trusts, so only a real root
    // caller may use it; a pkexec'd call stands for an unprivileged user.
    if (wants_config_override && caller.via_pkexec()) {
        return Failure{Outcome::NotAuthorized, "--config is honoured only for root callers, not through pkexec"};
    }
    return Done{};
}

}  // namespace banger
