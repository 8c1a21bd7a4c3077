// validate_config_path: one config value. The first byte picks the key
// (even: runtime_dir, odd: service_cgroup, so seeds read "r/run/banger" and
// "s/system.slice/..."); the rest is the value.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "policy/config.hpp"
#include "policy/path.hpp"

using namespace banger;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view key = (data[0] & 1U) != 0 ? "service_cgroup" : "runtime_dir";
    const std::string_view value = fuzz::as_text(data + 1, size - 1);

    auto r = validate_config_path(key, value);
    if (!r) {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::ConfigError);
        FUZZ_REQUIRE(fuzz::starts_with(r.failure().reason, key));
        FUZZ_REQUIRE(!fuzz::has_control_char(r.failure().reason));  // a refused value cannot forge log lines
        return 0;
    }
    FUZZ_REQUIRE(r.value() == value);
    FUZZ_REQUIRE(!path_problem(value));
    FUZZ_REQUIRE(value != "/");
    FUZZ_REQUIRE(!fuzz::has_control_char(value));
    FUZZ_REQUIRE(value.size() <= 1024);

    // Any accepted value can be written in the install record and is read
    // back unchanged; the other key keeps its default.
    if (fuzz::is_utf8(value)) {
        const std::string text = std::string(key) + " = " + fuzz::toml_string(value) + "\n";
        auto config = parse_config(text, "fuzz.toml");
        FUZZ_REQUIRE(config.ok());
        const Config defaults;
        const bool runtime = key == "runtime_dir";
        FUZZ_REQUIRE((runtime ? config.value().runtime_dir : config.value().service_cgroup) == value);
        FUZZ_REQUIRE((runtime ? config.value().service_cgroup : config.value().runtime_dir) ==
                     (runtime ? defaults.service_cgroup : defaults.runtime_dir));
    }
    return 0;
}
