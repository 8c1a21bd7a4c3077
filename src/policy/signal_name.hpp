// The signal allowlist. A Signal can only be obtained from it.
#pragma once

#include <string_view>

#include "policy/result.hpp"

namespace banger {

class Signal {
public:
    [[nodiscard]] int number() const noexcept { return number_; }
    [[nodiscard]] std::string_view name() const noexcept { return name_; }  // "TERM"
    [[nodiscard]] bool is_kill() const noexcept;
    friend bool operator==(const Signal& a, const Signal& b) noexcept { return a.number_ == b.number_; }

    // Only the allowlist constructs these.
    friend Result<Signal> parse_signal(std::string_view text);
    friend Signal default_signal() noexcept;

private:
    constexpr Signal(std::string_view n, int num) noexcept : name_(n), number_(num) {}
    std::string_view name_;
    int number_;
};

// TERM, KILL, INT, HUP, QUIT, USR1, USR2, ABRT; any case; at most one "SIG"
// prefix. Numbers, STOP/CONT/TSTP, real-time names, whitespace, empty:
// SignalRefused.
[[nodiscard]] Result<Signal> parse_signal(std::string_view text);
[[nodiscard]] Signal default_signal() noexcept;  // TERM

// "TERM, KILL, ..." for messages and --help.
[[nodiscard]] std::string_view allowed_signal_names() noexcept;

}  // namespace banger
