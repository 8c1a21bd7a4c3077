#include "policy/caller.hpp"

#include <cstdint>

namespace banger {

namespace {

Decision refuse(uid_t caller_uid, std::string reason, Door door) {
    return Decision{Mode::Refuse, Failure{Outcome::NotAuthorized, std::move(reason)}, caller_uid, false, door};
}

}  // namespace

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

Decision decide_mode(const Caller& caller, bool doctor, bool wants_config_override, bool serve) {
    if (serve) {
        // The instance works as the helper user that systemd made it; as root
        // it would judge a stranger's request with root's every power.
        if (caller.via_pkexec() || caller.real_uid == 0 || caller.effective_uid == 0) {
            return refuse(caller.real_uid,
                          "--serve never runs as root: banger-signal@.service starts it as the helper user",
                          caller.via_pkexec() ? Door::Pkexec : Door::Root);
        }
        return Decision{Mode::Serve, std::nullopt, caller.real_uid, true, Door::Socket};
    }
    if (doctor) {
        // --doctor checks the installation for the user who runs it; through
        // pkexec it would run as root, unhardened, for nothing.
        if (caller.via_pkexec()) {
            auto uid = accountable_uid(caller);
            return refuse(uid ? uid.value() : caller.real_uid,
                          "--doctor runs as the user it checks, not through pkexec", Door::Pkexec);
        }
        return Decision{Mode::Doctor, std::nullopt, caller.real_uid, false, Door::None};
    }
    if (!caller.is_root()) {
        // pkexec ran us, but not as root ("pkexec --user NAME"): elevating
        // again would act as that user, and blame it.
        if (caller.via_pkexec()) {
            return refuse(caller.real_uid,
                          "pkexec ran banger-signal as another user than root (pkexec --user?); it only runs as root",
                          Door::Pkexec);
        }
        if (wants_config_override) {
            return refuse(caller.real_uid,
                          "banger-signal must run as root: call it through pkexec (pkexec banger-signal --pid PID)",
                          Door::None);
        }
        return Decision{Mode::Elevate, std::nullopt, caller.real_uid, false, Door::None};
    }
    auto uid = accountable_uid(caller);
    const Door door = caller.via_pkexec() ? Door::Pkexec : Door::Root;
    if (!uid) return refuse(caller.real_uid, uid.failure().reason, door);
    if (wants_config_override && caller.via_pkexec()) {
        return refuse(uid.value(), "--config is honoured only for root callers, not through pkexec", door);
    }
    // Through pkexec the call stands for an unprivileged user: polkit must
    // agree to each signal for each target. A real root caller needs no
    // one's permission.
    return Decision{Mode::Privileged, std::nullopt, uid.value(), caller.via_pkexec(), door};
}

}  // namespace banger
