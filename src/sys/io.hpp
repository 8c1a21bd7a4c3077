// Small pieces every reader of /proc and cgroupfs shares: bounded reads,
// directory streams whose errors can be told from their end, and the one
// shape of a failed syscall.
#pragma once

#include <dirent.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "policy/facts.hpp"
#include "policy/result.hpp"

namespace banger {

// SystemError "<what>: <strerror(err)>".
[[nodiscard]] Failure system_error(std::string_view what, int err);

// Reads all of `fd`, at most `cap` bytes. The state says what happened; the
// caller (a judge) decides what an oversized or vanished file means. `what`
// names the file in the error text of an Unreadable read.
[[nodiscard]] FileFact read_all(int fd, std::size_t cap, std::string_view what);

// A whole file below `dir_fd` (O_NOFOLLOW), at most `cap` bytes, or nullopt
// if it cannot be read whole: for files whose absence is no fact of its own.
[[nodiscard]] std::optional<std::string> read_small_file(int dir_fd, const char* name, std::size_t cap);

struct DirCloser {
    void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

// `name` below `at` as a directory stream (O_NOFOLLOW); null with errno set.
[[nodiscard]] UniqueDir open_dir_at(int at, const char* name);

// readdir() reports an error only through errno, and so can whatever runs
// between two calls (a failed readlinkat of an fd closed meanwhile leaves
// ENOENT): errno is cleared right before each call, so after the loop it is
// readdir's own.
[[nodiscard]] const struct dirent* next_entry(DIR* dir) noexcept;

}  // namespace banger
