#include "policy/elevation.hpp"

#include "policy/text.hpp"

namespace banger {

std::string_view cause_name(ElevationCause cause) noexcept {
    switch (cause) {
        case ElevationCause::Dismissed: return "dismissed";
        case ElevationCause::NotAuthorized: return "not-authorized";
        case ElevationCause::PolkitUnavailable: return "polkit-unavailable";
        case ElevationCause::PkexecFailed: return "pkexec-failed";
    }
    return "pkexec-failed";
}

std::optional<PkexecRefusal> read_pkexec_exit(int status, std::string_view pkexec_stderr) {
    if (status != 126 && status != 127) return std::nullopt;
    std::string_view first;
    while (!pkexec_stderr.empty() && first.empty()) first = next_line(pkexec_stderr);
    PkexecRefusal refusal{status, ElevationCause::PkexecFailed, excerpt(first, 300)};
    const auto says = [&](std::string_view words) { return first.find(words) != std::string_view::npos; };
    if (status == 126) {
        refusal.cause = ElevationCause::Dismissed;
    } else if (says("Not authorized")) {
        refusal.cause = ElevationCause::NotAuthorized;
    } else if (says("Error getting authority") || says("Error checking for authorization") ||
               says("org.freedesktop.PolicyKit1")) {
        refusal.cause = ElevationCause::PolkitUnavailable;
    }
    return refusal;
}

}  // namespace banger
