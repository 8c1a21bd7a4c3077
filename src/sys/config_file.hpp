// Loading the install record from disk, with the ownership checks.
#pragma once

#include <string>

#include "policy/config.hpp"
#include "policy/result.hpp"

namespace banger {

// Opens `path` with O_NOFOLLOW and checks the open file (fstat): a regular
// file, owned by root, not writable by group or others, at most 64 KiB.
// A missing file gives the defaults when `required` is false (the built-in
// path) and ConfigError when true (--config). Every other problem: ConfigError.
[[nodiscard]] Result<Config> load_config_file(const std::string& path, bool required);

}  // namespace banger
