// banger's install record (/etc/banger/install.toml): the two values
// banger-signal trusts, parsed and validated without touching the filesystem.
#pragma once

#include <string>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

struct Config {
    std::string runtime_dir = "/run/banger";
    std::string service_cgroup = "/system.slice/bangerd-root.service";
};

// Reads only `runtime_dir` and `service_cgroup` and ignores every other key
// (the file is banger's whole install record). Values must be strings that
// are absolute, normalized paths other than "/", without control characters.
// Anything else, including invalid TOML: ConfigError. Missing keys keep
// their defaults.
[[nodiscard]] Result<Config> parse_config(std::string_view toml_text, std::string_view origin);

// The check applied to each value; exposed for tests and --doctor.
[[nodiscard]] Result<std::string> validate_config_path(std::string_view key, std::string_view value);

}  // namespace banger
