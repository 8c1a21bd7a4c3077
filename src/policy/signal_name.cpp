#include "policy/signal_name.hpp"

#include <array>
#include <csignal>

#include <fmt/format.h>

#include "policy/text.hpp"

namespace banger {

namespace {

struct Entry {
    std::string_view name;
    int number;
};

// Names map to the libc constants, never to computed numbers: "RTMIN+1" or
// "9" can never turn into something on this list.
constexpr std::array<Entry, 8> kAllowed{{
    {"TERM", SIGTERM},
    {"KILL", SIGKILL},
    {"INT", SIGINT},
    {"HUP", SIGHUP},
    {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
    {"ABRT", SIGABRT},
}};

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char c = a[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != b[i]) return false;  // b is upper case
    }
    return true;
}

}  // namespace

bool Signal::is_kill() const noexcept { return number_ == SIGKILL; }

Result<Signal> parse_signal(std::string_view text) {
    std::string_view bare = text;
    if (bare.size() >= 3 && equals_ignoring_case(bare.substr(0, 3), "SIG")) bare.remove_prefix(3);
    for (const auto& e : kAllowed) {
        if (equals_ignoring_case(bare, e.name)) return Signal(e.name, e.number);
    }
    return Failure{Outcome::SignalRefused,
                   fmt::format("signal '{}' is not allowed (allowed: {})", excerpt(text), allowed_signal_names())};
}

Signal default_signal() noexcept { return Signal(kAllowed[0].name, kAllowed[0].number); }

std::string_view allowed_signal_names() noexcept { return "TERM, KILL, INT, HUP, QUIT, USR1, USR2, ABRT"; }

}  // namespace banger
