// The socket door's connection, from either end: whole Varlink messages
// (door/varlink.hpp) in and out of a connected unix stream socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "policy/result.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

// Where systemd's socket activation puts the first passed fd.
inline constexpr int kListenFd = 3;

// Started by socket activation with exactly one fd, the connection, as fd 3
// (LISTEN_FDS=1, LISTEN_PID ours)? Reads the environment: first thing in
// main, before the fd could be closed as one the caller left open.
[[nodiscard]] bool started_with_connection() noexcept;

class Connection {
public:
    explicit Connection(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

    // The client's end: connects to the door's socket at `path`. The error
    // (errno) says why not; ENOENT, ECONNREFUSED and EACCES mean there is
    // no door to use here.
    [[nodiscard]] static Result<Connection> connect_to(const char* path, int& error);

    using Deadline = std::optional<std::chrono::steady_clock::time_point>;

    // The next message, its NUL taken off; nullopt when the other end
    // closed the connection before a byte of it. At most `cap` bytes
    // (UsageError beyond: the rest is never read). By `deadline` (UsageError
    // after; none: as long as it takes). `interrupt_fd`, a signalfd or -1:
    // the first time it turns readable this end stops sending (the other end
    // reads the end of the stream) and goes on reading; the second time the
    // read gives up (SystemError).
    [[nodiscard]] Result<std::optional<std::string>> read_message(std::size_t cap, Deadline deadline,
                                                                  int interrupt_fd = -1);
    // The message and its NUL, whole, by `deadline` (a peer that reads a
    // byte at a time cannot hold the writer longer). Never SIGPIPE.
    [[nodiscard]] Status write_message(std::string_view message, Deadline deadline = std::nullopt);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    std::string pending_;      // bytes read past the last message
    std::size_t scanned_ = 0;  // of them, known to hold no NUL
    bool shut_ = false;
};

// The fd systemd passed is what the door serves: a connected AF_UNIX
// stream socket (not a listening one: Accept=yes). SystemError otherwise.
[[nodiscard]] Status check_accepted_connection(int fd);

}  // namespace banger
