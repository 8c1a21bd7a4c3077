#include "sys/connection.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sys/io.hpp"

namespace banger {

namespace {

bool env_number_is(const char* name, long wanted) noexcept {
    const char* text = std::getenv(name);
    if (text == nullptr) return false;
    long value = 0;
    const char* end = text + std::strlen(text);
    const auto [stop, ec] = std::from_chars(text, end, value);
    return ec == std::errc() && stop == end && value == wanted;
}

}  // namespace

bool started_with_connection() noexcept {
    return env_number_is("LISTEN_FDS", 1) && env_number_is("LISTEN_PID", ::getpid());
}

Result<Connection> Connection::connect_to(const char* path, int& error) {
    error = 0;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (std::strlen(path) >= sizeof address.sun_path) {
        error = ENAMETOOLONG;
        return system_error("the socket door's path is too long", error);
    }
    std::memcpy(address.sun_path, path, std::strlen(path) + 1);
    UniqueFd made(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!made.valid()) {
        error = errno;
        return system_error("cannot make a socket", error);
    }
    int rc = 0;
    do {
        rc = ::connect(made.get(),
                       reinterpret_cast<const sockaddr*>(
                           &address),  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast): sockaddr API
                       sizeof address);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        error = errno;
        return system_error(fmt::format("cannot connect to {}", path), error);
    }
    return Connection(std::move(made));
}

namespace {

// Milliseconds left until `deadline` for poll(): -1 without one, 0 once past.
int poll_timeout(const Connection::Deadline& deadline) {
    if (!deadline) return -1;
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now()).count();
    return static_cast<int>(std::clamp<decltype(left)>(left, 0, INT32_MAX));
}

}  // namespace

Result<std::optional<std::string>> Connection::read_message(std::size_t cap, Deadline deadline, int interrupt_fd) {
    std::array<char, 65536> chunk{};
    while (true) {
        // Only the new bytes are searched: a peer sending one byte at a time
        // costs what its bytes cost, not their square.
        if (const std::size_t nul = pending_.find('\0', scanned_); nul != std::string::npos) {
            if (nul > cap) break;
            std::string message = pending_.substr(0, nul);
            pending_.erase(0, nul + 1);
            scanned_ = 0;
            return std::optional<std::string>(std::move(message));
        }
        scanned_ = pending_.size();
        if (pending_.size() > cap) break;
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0) return Failure{Outcome::UsageError, "no whole message in the time allowed"};
        std::array<pollfd, 2> fds{pollfd{fd_.get(), POLLIN, 0}, pollfd{interrupt_fd, POLLIN, 0}};
        const int n = ::poll(fds.data(), fds.size(), wait_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return system_error("poll", errno);
        if (interrupt_fd >= 0 && (fds[1].revents & POLLIN) != 0) {
            signalfd_siginfo arrived{};
            (void)!::read(interrupt_fd, &arrived, sizeof arrived);
            if (shut_) return Failure{Outcome::SystemError, "interrupted again while waiting for the answer"};
            // The other end sees the end of our stream: it stops waiting and answers.
            (void)::shutdown(fd_.get(), SHUT_WR);
            shut_ = true;
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t got = ::recv(fd_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got < 0) return system_error("cannot read from the connection", errno);
        if (got == 0) {
            if (pending_.empty()) return std::optional<std::string>();
            return Failure{Outcome::SystemError, "the connection ended in the middle of a message"};
        }
        pending_.append(chunk.data(), static_cast<std::size_t>(got));
    }
    return Failure{Outcome::UsageError, fmt::format("a message longer than {} bytes", cap)};
}

Status Connection::write_message(std::string_view message, Deadline deadline) {
    std::string framed(message);
    framed.push_back('\0');
    for (std::size_t done = 0; done < framed.size();) {
        const ssize_t n = ::send(fd_.get(), framed.data() + done, framed.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return system_error("cannot write to the connection", errno);
        const int wait_ms = poll_timeout(deadline);
        if (wait_ms == 0) return Failure{Outcome::SystemError, "the other end did not take the answer in time"};
        pollfd out{fd_.get(), POLLOUT, 0};
        if (::poll(&out, 1, wait_ms) < 0 && errno != EINTR) return system_error("poll", errno);
    }
    return Done{};
}

Status check_accepted_connection(int fd) {
    int domain = 0;
    int type = 0;
    int listening = 0;
    socklen_t len = sizeof domain;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return system_error("fd 3 is no socket", errno);
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return system_error("fd 3 is no socket", errno);
    len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
        return system_error("fd 3 is no socket", errno);
    }
    if (domain != AF_UNIX || type != SOCK_STREAM || listening != 0) {
        return Failure{Outcome::SystemError,
                       "fd 3 is not a connected unix stream socket: banger-signal.socket must say Accept=yes"};
    }
    return Done{};
}

}  // namespace banger
