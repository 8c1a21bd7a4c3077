#include "policy/pid.hpp"

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

namespace {

bool all_digits(std::string_view s) noexcept {
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return !s.empty();
}

// Caller guarantees 1..10 digits, so the value fits in 64 bits.
std::uint64_t to_number(std::string_view digits) noexcept {
    std::uint64_t n = 0;
    for (char c : digits) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    return n;
}

}  // namespace

Result<std::uint32_t> parse_pid_number(std::string_view text, std::uint32_t pid_max) {
    // Echo at most a short, printable prefix of hostile input.
    auto shown = [&] { return excerpt(text); };
    if (!all_digits(text)) {
        return Failure{Outcome::UsageError, fmt::format("invalid pid '{}': expected decimal digits only", shown())};
    }
    if (text.size() > 1 && text.front() == '0') {
        return Failure{Outcome::UsageError, fmt::format("invalid pid '{}': leading zeros are not allowed", shown())};
    }
    if (text.size() > 10 || to_number(text) > pid_max) {
        return Failure{Outcome::UsageError,
                       fmt::format("invalid pid '{}': larger than pid_max ({})", shown(), pid_max)};
    }
    return static_cast<std::uint32_t>(to_number(text));
}

std::optional<std::uint32_t> parse_pid_max(std::string_view content) {
    if (!content.empty() && content.back() == '\n') content.remove_suffix(1);
    if (!all_digits(content) || content.size() > 10) return std::nullopt;
    if (content.size() > 1 && content.front() == '0') return std::nullopt;
    std::uint64_t n = to_number(content);
    if (n < 2 || n > kPidMaxLimit) return std::nullopt;
    return static_cast<std::uint32_t>(n);
}

}  // namespace banger
