// Shared by the libFuzzer targets: an invariant check that crashes (so
// libFuzzer saves the input), and small helpers the targets need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

// Not assert(): it must also hold in release builds, and name the invariant.
#define FUZZ_REQUIRE(cond) ::fuzz::require((cond), #cond, __FILE__, __LINE__)

namespace fuzz {

inline void require(bool ok, const char* what, const char* file, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, what);
    std::abort();  // libFuzzer catches SIGABRT and writes the input to the artifact prefix
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    // libFuzzer passes bytes; the parsers take text. Same object representation.
    return {reinterpret_cast<const char*>(data), size};
}

// Messages may echo hostile input, but never terminal control sequences or
// other non-printable bytes, and never unboundedly much of it.
inline bool is_printable_ascii(std::string_view s) noexcept {
    for (char c : s) {
        if (c < 0x20 || c >= 0x7f) return false;
    }
    return true;
}

inline bool has_control_char(std::string_view s) noexcept {
    for (char c : s) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
    }
    return false;
}

inline bool starts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.substr(0, prefix.size()) == prefix;
}

inline bool ends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Lines as the /proc readers see them: split on '\n', without the '\n'.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        f(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
// what a TOML document must be.
inline bool is_utf8(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (b < 0x80) {
            ++i;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
            len = 2;
            cp = b & 0x1fU;
        } else if (b >= 0xe0 && b <= 0xef) {
            len = 3;
            cp = b & 0x0fU;
        } else if (b >= 0xf0 && b <= 0xf4) {
            len = 4;
            cp = b & 0x07U;
        } else {
            return false;
        }
        if (i + len > s.size()) return false;
        for (std::size_t k = 1; k < len; ++k) {
            auto c = static_cast<unsigned char>(s[i + k]);
            if ((c & 0xc0U) != 0x80U) return false;
            cp = (cp << 6) | (c & 0x3fU);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) return false;
        if (cp >= 0xd800 && cp <= 0xdfff) return false;
        i += len;
    }
    return true;
}

// A TOML basic string holding `value`, which has no control characters.
inline std::string toml_string(std::string_view value) {
    std::string out = "\"";
    for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace fuzz
