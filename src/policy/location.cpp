#include "policy/location.hpp"

#include <sys/stat.h>

#include <fmt/format.h>

namespace banger {

std::optional<std::string> unsafe_location(const std::vector<PathEntry>& chain) {
    if (chain.empty()) return "the location of the binary is unknown";
    for (std::size_t i = 0; i < chain.size(); ++i) {
        const PathEntry& entry = chain[i];
        if (entry.owner != 0) return fmt::format("{} is owned by uid {}, not root", entry.path, entry.owner);
        if ((entry.mode & (S_IWGRP | S_IWOTH)) == 0) continue;
        // chain[i - 1] is the entry inside this directory; the binary itself
        // (i == 0) has no sticky exception.
        const bool sticky_dir = i > 0 && S_ISDIR(entry.mode) && (entry.mode & S_ISVTX) != 0;
        if (!sticky_dir) return fmt::format("{} is writable by group or others", entry.path);
    }
    return std::nullopt;
}

}  // namespace banger
