// Result<T>: a value or a Failure (an Outcome plus a one-line reason).
// A tiny stand-in for std::expected, which C++20 does not have.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "policy/outcome.hpp"

namespace banger {

struct Failure {
    Outcome outcome;
    std::string reason;
};

template <typename T>
class [[nodiscard]] Result {
public:
    // Implicit on purpose, like std::expected: `return value;` and
    // `return Failure{...};` read naturally in every parser.
    // cppcheck-suppress noExplicitConstructor
    Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    // cppcheck-suppress noExplicitConstructor
    Result(Failure failure) : v_(std::move(failure)) {}  // NOLINT(google-explicit-constructor)

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    [[nodiscard]] const T& value() const& { return std::get<0>(v_); }
    [[nodiscard]] T&& value() && { return std::get<0>(std::move(v_)); }
    [[nodiscard]] const Failure& failure() const& { return std::get<1>(v_); }
    [[nodiscard]] Failure&& failure() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Failure> v_;
};

// For operations that return nothing but may fail.
struct Done {};
using Status = Result<Done>;

}  // namespace banger
