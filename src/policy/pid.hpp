// Pids as the caller writes them, and as the program holds them.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

// PID_MAX_LIMIT on 64-bit Linux: the ceiling when /proc/sys/kernel/pid_max
// cannot be read.
inline constexpr std::uint32_t kPidMaxLimit = 4194304;

// At most this many --pid per call: bounds the work one call can cause.
inline constexpr std::size_t kMaxPidsPerCall = 4096;

// Strict decimal: digits only, no sign, no whitespace, no leading zeros (they
// read as octal to some tools), at most 10 digits, and at most pid_max.
// "0" parses (and is refused later as protected). Anything else: UsageError.
// Unlike /bin/kill, "4294967295" is never -1 and never broadcasts.
[[nodiscard]] Result<std::uint32_t> parse_pid_number(std::string_view text, std::uint32_t pid_max);

// The content of /proc/sys/kernel/pid_max ("4194304\n"); nullopt if malformed.
[[nodiscard]] std::optional<std::uint32_t> parse_pid_max(std::string_view content);

// A pid that can be a target: never 0, 1 or negative once constructed.
class Pid {
public:
    [[nodiscard]] static std::optional<Pid> from(std::uint32_t n) noexcept {
        if (n <= 1 || n > kPidMaxLimit) return std::nullopt;
        return Pid(static_cast<int>(n));
    }
    [[nodiscard]] int get() const noexcept { return value_; }
    friend bool operator==(Pid, Pid) = default;

private:
    explicit Pid(int v) noexcept : value_(v) {}
    int value_;
};

}  // namespace banger
