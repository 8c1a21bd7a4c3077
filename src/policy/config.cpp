#include "policy/config.hpp"

#include <algorithm>

#include <fmt/format.h>

// toml++ 3.3 has internal checks that malformed input can fail ("[[["): in
// a debug build they abort, and with NDEBUG they become optimizer
// assumptions (undefined behaviour). Both are wrong for a root helper. Here
// a failed check only raises a flag (some checks sit in noexcept code, so
// they cannot throw); the parser then goes on as in a release build, without
// the assumption, and parse_config refuses the file whatever it returned.
namespace banger::toml_guard {
thread_local bool check_failed = false;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
}
#ifdef NDEBUG
#undef NDEBUG
#endif
#define TOML_ASSERT(expr) ((expr) ? static_cast<void>(0) : static_cast<void>(banger::toml_guard::check_failed = true))
#include <toml++/toml.h>

#include "policy/path.hpp"
#include "policy/text.hpp"

namespace banger {

namespace {

constexpr std::size_t kMaxValueLength = 1024;

bool is_non_ascii(char c) noexcept { return static_cast<unsigned char>(c) >= 0x80; }
bool is_ascii(std::string_view s) noexcept { return std::none_of(s.begin(), s.end(), is_non_ascii); }

}  // namespace

Result<std::string> validate_config_path(std::string_view key, std::string_view value) {
    auto bad = [&](std::string_view why) {
        return Failure{Outcome::ConfigError, fmt::format("{}: value {}", key, why)};
    };
    if (value.size() > kMaxValueLength) return bad("is too long");
    if (has_control_character(value)) return bad("contains a control character");
    // Like the file itself, values are ASCII (a "\u00e1" escape too).
    if (!is_ascii(value)) return bad("contains a non-ASCII character");
    if (auto problem = path_problem(value))
        return bad(fmt::format("'{}' {} (need an absolute, normalized path)", value, *problem));
    // "/" would make every process (cgroup) or every socket (runtime dir) banger's.
    if (value == "/") return bad("'/' is not allowed");
    return std::string(value);
}

Result<Config> parse_config(std::string_view toml_text, std::string_view origin) {
    // toml++ 3.3 reaches code it marks unreachable (undefined behaviour) on
    // some non-ASCII characters. The install record holds paths and ASCII
    // keys, so any byte outside ASCII makes the file invalid, before toml++
    // sees it.
    if (auto at = std::find_if(toml_text.begin(), toml_text.end(), is_non_ascii); at != toml_text.end()) {
        return Failure{Outcome::ConfigError, fmt::format("{}: non-ASCII byte at offset {} (only ASCII is accepted)",
                                                         origin, at - toml_text.begin())};
    }
    toml::table table;
    // toml++ reports syntax errors by exception; it never leaves this function.
    toml_guard::check_failed = false;
    try {
        table = toml::parse(toml_text, origin);
    } catch (const toml::parse_error& e) {
        const auto& where = e.source().begin;
        return Failure{Outcome::ConfigError,
                       fmt::format("{}: invalid TOML at line {}: {}", origin, where.line, e.description())};
    }
    if (toml_guard::check_failed) return Failure{Outcome::ConfigError, fmt::format("{}: invalid TOML", origin)};

    Config config;
    struct Key {
        std::string_view name;
        std::string* target;
    };
    for (const Key& key : {Key{"runtime_dir", &config.runtime_dir}, Key{"service_cgroup", &config.service_cgroup}}) {
        const toml::node* node = table.get(key.name);
        if (node == nullptr) continue;
        const auto* text = node->as_string();
        if (text == nullptr) {
            return Failure{Outcome::ConfigError, fmt::format("{}: {} must be a string", origin, key.name)};
        }
        auto valid = validate_config_path(key.name, text->get());
        if (!valid) return Failure{Outcome::ConfigError, fmt::format("{}: {}", origin, valid.failure().reason)};
        *key.target = std::move(valid).value();
    }
    return config;
}

}  // namespace banger
