// Who is calling, and whether that caller may make this call.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

struct Caller {
    uid_t real_uid = 0;
    uid_t effective_uid = 0;
    int pid = 0;                              // getppid()
    std::optional<std::string_view> pkexec_uid_text;  // PKEXEC_UID as found, if set

    // Came through pkexec: pkexec always sets PKEXEC_UID. A root caller can
    // set it too, but then only loses what pkexec callers lose.
    [[nodiscard]] bool via_pkexec() const noexcept { return pkexec_uid_text.has_value(); }
};

// A uid as pkexec writes it: decimal, no sign, at most 10 digits, not
// (uid_t)-1. nullopt otherwise.
[[nodiscard]] std::optional<uid_t> parse_uid(std::string_view text) noexcept;

// The uid to account the call to: PKEXEC_UID when present, else the real uid.
// A malformed PKEXEC_UID is NotAuthorized (fail closed).
[[nodiscard]] Result<uid_t> accountable_uid(const Caller& caller);

// May this caller run a privileged call? Real and effective uid 0 are
// required (no setuid-style mixes); --config only for real root, not via pkexec.
[[nodiscard]] Status authorize_caller(const Caller& caller, bool wants_config_override);

}  // namespace banger
