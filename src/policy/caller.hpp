// Who is calling, and what this call may do: the mode of the whole call
// (check the installation, elevate through pkexec, act privileged, or
// refuse), decided from the caller's ids and the request alone.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

struct Caller {
    uid_t real_uid = 0;
    uid_t effective_uid = 0;
    std::optional<std::string_view> pkexec_uid_text;  // PKEXEC_UID as found, if set

    // Came through pkexec: pkexec always sets PKEXEC_UID. A root caller can
    // set it too, but then only loses what pkexec callers lose.
    [[nodiscard]] bool via_pkexec() const noexcept { return pkexec_uid_text.has_value(); }
    [[nodiscard]] bool is_root() const noexcept { return real_uid == 0 && effective_uid == 0; }
};

// A uid as pkexec writes it: decimal, no sign, at most 10 digits, not
// (uid_t)-1. nullopt otherwise.
[[nodiscard]] std::optional<uid_t> parse_uid(std::string_view text) noexcept;

// The uid to account the call to: PKEXEC_UID when present, else the real uid.
// A malformed PKEXEC_UID is NotAuthorized (fail closed).
[[nodiscard]] Result<uid_t> accountable_uid(const Caller& caller);

// How a call reaches the part that judges and signals: it runs as root from
// the start, pkexec ran it as root, or an instance of the socket door
// (banger-signal@.service, never root) serves it for its peer. None: no
// door was used (a call refused or checked before one was chosen).
enum class Door { None, Root, Pkexec, Socket };

enum class Mode {
    Doctor,      // --doctor: check the installation, as whoever runs it
    Elevate,     // not root: re-run the installed binary through pkexec
    Privileged,  // root: judge, authorize and signal
    Serve,       // --serve: the socket door's instance, never root
    Refuse,      // `refusal` says why; nothing is judged
};

struct Decision {
    Mode mode = Mode::Refuse;
    std::optional<Failure> refusal;
    uid_t caller_uid = 0;          // the uid the call is accounted to
    bool polkit_required = false;  // through pkexec: polkit must agree per target
    Door door = Door::None;
};

// Real and effective uid 0 are required to act (no setuid-style mixes);
// anyone else elevates, unless pkexec ran it (PKEXEC_UID) as someone other
// than root; --config is never elevated (the privileged run
// would refuse it): --config moves what the privileged binary trusts, so only
// a real root caller may use it, not one through pkexec.
// --serve is banger-signal@.service's: the instance of the socket door,
// never root and never through pkexec.
[[nodiscard]] Decision decide_mode(const Caller& caller, bool doctor, bool wants_config_override, bool serve = false);

}  // namespace banger
