// Self-elevation's answers: what pkexec's exit status and its first line on
// stderr say happened when the privileged run never did. pkexec is run in
// the C locale, so its lines are its own English ones.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace banger {

enum class ElevationCause {
    Dismissed,          // 126: someone dismissed the authentication dialog
    NotAuthorized,      // 127: polkit said no
    PolkitUnavailable,  // 127: pkexec could not ask polkit (no bus, no polkitd)
    PkexecFailed,       // 127: pkexec refused for a reason of its own
};

[[nodiscard]] std::string_view cause_name(ElevationCause cause) noexcept;  // for JSON "elevation"

struct PkexecRefusal {
    int status = 0;
    ElevationCause cause = ElevationCause::PkexecFailed;
    std::string line;  // pkexec's own first line, printable, at most 300 bytes
};

// nullopt for any status but 126 and 127: that is the privileged run's own
// exit code, to pass through.
[[nodiscard]] std::optional<PkexecRefusal> read_pkexec_exit(int status, std::string_view pkexec_stderr);

}  // namespace banger
