#include "policy/duration.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

namespace {

bool digits(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view option, std::string_view text) {
    auto bad = [&](std::string_view why) {
        return Failure{Outcome::UsageError, fmt::format("{} '{}': {}", option, excerpt(text), why)};
    };
    std::size_t dot = text.find('.');
    std::string_view whole = text.substr(0, dot);
    std::string_view fraction = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
    if (!digits(whole) || whole.size() > 4 ||
        (dot != std::string_view::npos && (!digits(fraction) || fraction.size() > 3))) {
        return bad("expected seconds, like 5 or 0.5");
    }
    if (whole.size() > 1 && whole.front() == '0') return bad("leading zeros are not allowed");
    long ms = 0;
    for (char c : whole) ms = ms * 10 + (c - '0');
    ms *= 1000;
    long scale = 100;
    for (char c : fraction) {
        ms += (c - '0') * scale;
        scale /= 10;
    }
    if (std::chrono::milliseconds(ms) > kMaxWait) return bad("at most 3600 seconds");
    return std::chrono::milliseconds(ms);
}

}  // namespace banger
