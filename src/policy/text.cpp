#include "policy/text.hpp"

#include <algorithm>

namespace banger {

namespace {

bool is_control(char c) noexcept { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

std::string excerpt(std::string_view text, std::size_t max) {
    std::string out;
    for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (text.size() > max) out += "...";
    return out;
}

bool has_control_character(std::string_view text) noexcept { return std::any_of(text.begin(), text.end(), is_control); }

std::string_view next_line(std::string_view& rest) noexcept {
    std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    return line;
}

}  // namespace banger
