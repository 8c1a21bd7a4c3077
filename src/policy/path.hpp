// Absolute paths compared by components, never by substring.
#pragma once

#include <optional>
#include <string_view>

namespace banger {

// Why `path` is not an absolute, normalized path, or nullopt if it is.
// Normalized: starts with '/', no empty, "." or ".." components (so no "//"),
// no trailing '/', no NUL. "/" itself is normalized.
[[nodiscard]] std::optional<std::string_view> path_problem(std::string_view path) noexcept;

// True if `path` is `dir` or lies below it, by whole components:
// "/a/b" is within "/a" but "/a-b" is not. Both must be normalized.
[[nodiscard]] bool is_within_or_equal(std::string_view path, std::string_view dir) noexcept;

// True if `path` lies strictly below `dir` (not equal to it).
[[nodiscard]] bool is_strictly_within(std::string_view path, std::string_view dir) noexcept;

// The kernel marks a removed file or cgroup by appending " (deleted)" to its
// name in /proc (exe links, /proc/<pid>/cgroup).
[[nodiscard]] bool has_deleted_marker(std::string_view name) noexcept;

// The last component: "/usr/bin/firecracker" -> "firecracker".
[[nodiscard]] std::string_view base_name(std::string_view path) noexcept;

}  // namespace banger
