// parse_signal: only the allowlist, spelled as a name, ever yields a Signal.
#include <array>
#include <csignal>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "policy/signal_name.hpp"

using namespace banger;

namespace {

struct Allowed {
    std::string_view name;
    int number;
};

constexpr std::array<Allowed, 8> kAllowed{{
    {"TERM", SIGTERM},
    {"KILL", SIGKILL},
    {"INT", SIGINT},
    {"HUP", SIGHUP},
    {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
    {"ABRT", SIGABRT},
}};

char upper(char c) noexcept { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

bool same_ignoring_case(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (upper(a[i]) != upper(b[i])) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto r = parse_signal(text);
    if (!r) {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::SignalRefused);
        FUZZ_REQUIRE(fuzz::is_printable_ascii(r.failure().reason));
        FUZZ_REQUIRE(r.failure().reason.size() < 160);
        return 0;
    }
    const Signal sig = r.value();

    // The name and the number come from the same allowlist entry.
    bool listed = false;
    for (const auto& a : kAllowed) {
        if (sig.name() == a.name) {
            FUZZ_REQUIRE(sig.number() == a.number);
            listed = true;
        }
    }
    FUZZ_REQUIRE(listed);
    FUZZ_REQUIRE(sig.is_kill() == (sig.number() == SIGKILL));

    // The text was that name, in any case, with at most one "SIG" prefix.
    const bool bare = same_ignoring_case(text, sig.name());
    const bool prefixed = text.size() == sig.name().size() + 3 && same_ignoring_case(text.substr(0, 3), "SIG") &&
                          same_ignoring_case(text.substr(3), sig.name());
    FUZZ_REQUIRE(bare || prefixed);

    // Re-parsing the canonical spellings gives the same signal.
    auto again = parse_signal(sig.name());
    FUZZ_REQUIRE(again && again.value() == sig && again.value().name() == sig.name());
    auto with_prefix = parse_signal("SIG" + std::string(sig.name()));
    FUZZ_REQUIRE(with_prefix && with_prefix.value() == sig);
    FUZZ_REQUIRE(!parse_signal("SIGSIG" + std::string(sig.name())).ok());
    return 0;
}
