// parse_duration (--wait, --kill-after), checked against a plain reading of
// the grammar in duration.hpp.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz_check.hpp"
#include "policy/duration.hpp"

using namespace banger;

namespace {

bool all_digits(std::string_view s) noexcept {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// WHOLE[.FRACTION]: WHOLE 1-4 digits without leading zeros, FRACTION 1-3
// digits; at most 3600 seconds. Milliseconds, or nullopt.
std::optional<std::int64_t> reference(std::string_view text) {
    const std::size_t dot = text.find('.');
    const std::string_view whole = text.substr(0, dot);
    if (!all_digits(whole) || whole.size() > 4 || (whole.size() > 1 && whole[0] == '0')) return std::nullopt;
    std::string fraction;
    if (dot != std::string_view::npos) {
        fraction = std::string(text.substr(dot + 1));
        if (!all_digits(fraction) || fraction.size() > 3) return std::nullopt;
    }
    fraction.resize(3, '0');
    const std::int64_t ms = std::stoll(std::string(whole)) * 1000 + std::stoll(fraction);
    if (ms > 3600 * 1000) return std::nullopt;
    return ms;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto r = parse_duration("--wait", text);
    const auto expected = reference(text);
    FUZZ_REQUIRE(r.ok() == expected.has_value());
    if (r) {
        FUZZ_REQUIRE(r.value() >= std::chrono::milliseconds(0));
        FUZZ_REQUIRE(r.value() <= kMaxWait);
        FUZZ_REQUIRE(r.value() <= std::chrono::milliseconds(3600000));
        FUZZ_REQUIRE(r.value().count() == *expected);
    } else {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::UsageError);
        FUZZ_REQUIRE(fuzz::starts_with(r.failure().reason, "--wait"));
        FUZZ_REQUIRE(fuzz::is_printable_ascii(r.failure().reason));
        FUZZ_REQUIRE(r.failure().reason.size() < 160);
    }
    return 0;
}
