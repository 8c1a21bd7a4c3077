// Hostile strings in messages: what the caller or a target wrote is shown,
// but never as control characters that could forge a line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace banger {

// For a terminal or the log: every byte that is not printable ASCII becomes
// '?'. Control characters, DEL, and every byte >= 0x80 too: UTF-8 carries
// controls of its own (C1, such as U+009B, a terminal's CSI) and bidi
// overrides (U+202E) that would reorder what an admin reads.
[[nodiscard]] std::string printable(std::string_view text);

// At most `max` bytes of caller input for an error message, printable ASCII
// only (other bytes become '?'), with "..." when cut.
[[nodiscard]] std::string excerpt(std::string_view text, std::size_t max = 32);

[[nodiscard]] bool has_control_character(std::string_view text) noexcept;

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF), as D-Bus requires of a string.
[[nodiscard]] bool is_valid_utf8(std::string_view text) noexcept;

// Takes the first line off `rest` and returns it without its '\n'; the last
// line needs no '\n'. For `while (!rest.empty()) { auto line = next_line(rest); ... }`.
[[nodiscard]] std::string_view next_line(std::string_view& rest) noexcept;

}  // namespace banger
