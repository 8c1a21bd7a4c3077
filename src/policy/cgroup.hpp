// /proc/<pid>/cgroup: which cgroup a process is in, and whether that is
// banger's service cgroup.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.hpp"

namespace banger {

// Picks the path that identifies the process's service from the bytes of
// /proc/<pid>/cgroup: the cgroup v2 line ("0::/path"); on a hybrid host where
// that is missing or "/", the "name=systemd" v1 line. Lines are split on their
// first two colons only, because ':' is legal in cgroup names.
// Refused (NotManaged): no usable line, duplicate lines, a relative path, a
// path outside our cgroup namespace ("/.." prefix), a removed cgroup
// (" (deleted)" suffix), any "." / ".." / empty component.
[[nodiscard]] Result<std::string> select_cgroup_path(std::string_view file_content);

// Component match, never substring: accepts `service` itself and anything
// below it. "/system.slice/bangerd-root.service-x" and
// ".../user@1000.service/app.slice/bangerd-root.service" are not within
// "/system.slice/bangerd-root.service".
[[nodiscard]] bool is_within_cgroup(std::string_view path, std::string_view service) noexcept;

// A cgroup's cgroup.procs: one pid per line. Malformed lines are skipped
// (the result only picks candidates; each is then judged in full).
[[nodiscard]] std::vector<std::uint32_t> parse_cgroup_procs(std::string_view content);

}  // namespace banger
