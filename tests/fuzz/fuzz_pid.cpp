// parse_pid_number, parse_pid_max, parse_uid and Pid: the decimal parsers.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "fuzz_check.hpp"
#include "policy/caller.hpp"
#include "policy/pid.hpp"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    constexpr std::uint32_t kMax32 = std::numeric_limits<std::uint32_t>::max();
    // Ascending, so acceptance must be monotonic along the array.
    constexpr std::array<std::uint32_t, 7> kPidMaxes{0, 1, 2, 32768, kPidMaxLimit, kMax32 - 1, kMax32};

    std::optional<std::uint32_t> accepted_at_lower;
    for (std::uint32_t pid_max : kPidMaxes) {
        auto r = parse_pid_number(text, pid_max);
        if (r) {
            const std::uint32_t pid = r.value();
            FUZZ_REQUIRE(pid <= pid_max);
            // Digits only, no sign, no leading zeros, no whitespace: exactly
            // the canonical spelling of the number.
            FUZZ_REQUIRE(std::to_string(pid) == text);
            FUZZ_REQUIRE(!accepted_at_lower || *accepted_at_lower == pid);
            accepted_at_lower = pid;

            auto target = Pid::from(pid);
            FUZZ_REQUIRE(target.has_value() == (pid >= 2 && pid <= kPidMaxLimit));
            FUZZ_REQUIRE(!target || static_cast<std::uint32_t>(target->get()) == pid);
        } else {
            // A larger pid_max never takes back what a smaller one accepted.
            FUZZ_REQUIRE(!accepted_at_lower);
            FUZZ_REQUIRE(r.failure().outcome == Outcome::UsageError);
            FUZZ_REQUIRE(fuzz::is_printable_ascii(r.failure().reason));
            FUZZ_REQUIRE(r.failure().reason.size() < 160);
        }
    }

    // A uid is a pid without the pid_max bound, and (uid_t)-1 is never one.
    auto uid = parse_uid(text);
    auto as_pid = parse_pid_number(text, kMax32 - 1);
    FUZZ_REQUIRE(uid.has_value() == as_pid.ok());
    FUZZ_REQUIRE(!uid || *uid == as_pid.value());

    // /proc/sys/kernel/pid_max: 1-10 digits and one optional trailing
    // newline, 2..PID_MAX_LIMIT. (Leading zeros pass: the kernel never writes
    // them, and they do not change the value.)
    if (auto pid_max = parse_pid_max(text)) {
        FUZZ_REQUIRE(*pid_max >= 2 && *pid_max <= kPidMaxLimit);
        std::string_view digits = text;
        if (fuzz::ends_with(digits, "\n")) digits.remove_suffix(1);
        FUZZ_REQUIRE(!digits.empty() && digits.size() <= 10);
        FUZZ_REQUIRE(digits.find_first_not_of("0123456789") == std::string_view::npos);
        const std::string canonical = std::to_string(*pid_max);
        FUZZ_REQUIRE(fuzz::ends_with(digits, canonical));
        FUZZ_REQUIRE(digits.substr(0, digits.size() - canonical.size()).find_first_not_of('0') ==
                     std::string_view::npos);
    }
    return 0;
}
