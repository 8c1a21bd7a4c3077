// Where the privileged binary runs from: nobody but root may be able to
// replace it, or any directory on its path.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace banger {

struct PathEntry {
    std::string path;
    uid_t owner = 0;
    mode_t mode = 0;  // st_mode
};

// `chain` is the binary first, then each directory up to "/". Safe when every
// entry is owned by root and not writable by group or others; a directory
// writable by others is tolerated only with the sticky bit (like /tmp), since
// then nobody else can rename or delete the root-owned entry below it.
// Returns why the location is unsafe, or nullopt.
[[nodiscard]] std::optional<std::string> unsafe_location(const std::vector<PathEntry>& chain);

}  // namespace banger
