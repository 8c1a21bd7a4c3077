// Rule 2's proof, asked of the kernel: does a pinned process serve a
// listening unix socket bound to a given file?
#pragma once

#include <string>

#include "policy/result.hpp"
#include "sys/pidfd.hpp"

namespace banger {

// One of the process's fds is a unix socket that listens, bound to the very
// file that banger-signal finds at `path` (lstat, in its own mount
// namespace, with no symlink below `runtime_dir`). Asks the kernel through
// sock_diag, in banger-signal's network namespace (policy/unix_socket.hpp
// says why not /proc/net/unix). Done, or NotManaged with the reason; other
// failures are system errors, or NoSuchProcess when the process exited
// meanwhile.
[[nodiscard]] Status serves_unix_socket_at(const PinnedProcess& pinned, const std::string& runtime_dir,
                                           const std::string& path);

// Does the pinned process hold, among its fds, the other end of
// `connection` (a connected unix socket of ours)? Done; NotManaged when it
// does not; NoSuchProcess when it exited; else a SystemError.
[[nodiscard]] Status holds_peer_of(const PinnedProcess& pinned, int connection);

}  // namespace banger
