// What the system layer found out about one pinned process, as plain data.
// Each file is read whole, size-capped, and its state says what happened;
// what an unreadable or oversized file means is the judge's call
// (policy/judge.hpp), not the reader's.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace banger {

// Larger files are never trusted: a process controls the size of its own
// command line, and nothing of banger's comes near these.
inline constexpr std::size_t kStatCap = 4096;
inline constexpr std::size_t kCgroupCap = std::size_t{64} * 1024;
inline constexpr std::size_t kCmdlineCap = std::size_t{128} * 1024;

enum class FileState {
    NotRead,     // not asked for (yet): no rule has needed it
    Read,        // `text` holds the whole file
    TooLarge,    // over its cap
    Gone,        // the process exited while we read
    Unreadable,  // another failure; `error` says which
};

struct FileFact {
    FileState state = FileState::Unreadable;
    std::string text;
    std::string error;
};

struct TargetFacts {
    FileFact stat;                   // /proc/<pid>/stat
    std::optional<std::string> exe;  // the /proc/<pid>/exe link; nullopt if it cannot be read
    FileFact cgroup;                 // /proc/<pid>/cgroup
    // /proc/<pid>/cmdline: read only when the judge asks for it (rule 2),
    // since its owner controls its size and how long reading it takes.
    FileFact cmdline{FileState::NotRead, {}, {}};
};

}  // namespace banger
