// The whole install record: parse_config over arbitrary bytes as TOML.
// (Known toml++ crashes are listed in meson.build, not filtered here.)
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "policy/config.hpp"

using namespace banger;

namespace {

void check_value(std::string_view key, const std::string& value) {
    // Whatever the file said, only values that pass the value check come out.
    auto valid = validate_config_path(key, value);
    FUZZ_REQUIRE(valid && valid.value() == value);
    FUZZ_REQUIRE(value != "/" && fuzz::starts_with(value, "/"));
    FUZZ_REQUIRE(!fuzz::has_control_char(value));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::string_view kOrigin = "fuzz.toml";
    auto r = parse_config(fuzz::as_text(data, size), kOrigin);  // must not throw, whatever the bytes
    if (!r) {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::ConfigError);
        FUZZ_REQUIRE(r.failure().reason.find(kOrigin) != std::string::npos);  // names the file
        return 0;
    }
    const Config& config = r.value();
    check_value("runtime_dir", config.runtime_dir);
    check_value("service_cgroup", config.service_cgroup);

    // Written back as TOML, the values read back the same.
    const std::string text = "runtime_dir = " + fuzz::toml_string(config.runtime_dir) +
                             "\nservice_cgroup = " + fuzz::toml_string(config.service_cgroup) + "\n";
    auto again = parse_config(text, kOrigin);
    FUZZ_REQUIRE(again && again.value().runtime_dir == config.runtime_dir &&
                 again.value().service_cgroup == config.service_cgroup);
    return 0;
}
