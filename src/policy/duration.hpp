// Durations for --wait and --kill-after.
#pragma once

#include <chrono>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

inline constexpr std::chrono::milliseconds kMaxWait{3600 * 1000};

// Seconds as plain decimal: 1-4 digits, optionally '.' and 1-3 digits
// ("2", "0.5", "1.25"), at most 3600. No sign, exponent, whitespace, leading
// zeros ("007", "00.5") or units. Anything else: UsageError naming `option`.
[[nodiscard]] Result<std::chrono::milliseconds> parse_duration(std::string_view option, std::string_view text);

}  // namespace banger
