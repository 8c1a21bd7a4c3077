// JSON as the socket door accepts it from a peer it does not trust: well
// formed (nlohmann's lexer: UTF-8 checked, nothing after the value), and
// stricter than JSON itself where a lenient reader would guess: no key twice
// in an object (which one would count?), bounded nesting and members. Pure:
// text in, a value or the reason out.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/result.hpp"

namespace banger {

struct JsonValue {
    enum class Kind {
        Null,
        Boolean,
        Unsigned,  // an integer without a sign: text is its decimal digits
        Negative,  // an integer with a minus sign (-0 too)
        Float,     // a number with a fraction or an exponent: text is as written
        String,
        Array,
        Object,
    };
    Kind kind = Kind::Null;
    bool boolean = false;
    std::string text{};                                        // String, and numbers as written
    std::vector<JsonValue> items{};                            // Array
    std::vector<std::pair<std::string, JsonValue>> members{};  // Object, in order, every key once

    [[nodiscard]] bool is_number() const noexcept {
        return kind == Kind::Unsigned || kind == Kind::Negative || kind == Kind::Float;
    }
    // The member named `key` of an object, or null.
    [[nodiscard]] const JsonValue* find(std::string_view key) const noexcept;
};

struct JsonLimits {
    std::size_t max_depth;    // nested arrays and objects, the outermost included
    std::size_t max_members;  // per object
};

// UsageError with the reason when `text` is not one such JSON value.
[[nodiscard]] Result<JsonValue> parse_strict_json(std::string_view text, const JsonLimits& limits);

}  // namespace banger
