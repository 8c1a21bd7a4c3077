#include "sys/connection.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "sys/io.hpp"

namespace banger {

namespace {

constexpr std::chrono::seconds kSendTimeout{30};

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

Result<std::optional<std::string>> Connection::read_message(std::size_t cap,
                                                            std::optional<std::chrono::milliseconds> timeout,
                                                            int interrupt_fd) {
    const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(std::chrono::milliseconds{0});
    std::array<char, 65536> chunk{};
    while (true) {
        if (const std::size_t nul = pending_.find('\0'); nul != std::string::npos) {
            if (nul > cap) break;
            std::string message = pending_.substr(0, nul);
            pending_.erase(0, nul + 1);
            return std::optional<std::string>(std::move(message));
        }
        if (pending_.size() > cap) break;
        int wait_ms = -1;
        if (timeout) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                return Failure{Outcome::UsageError,
                               fmt::format("no whole message within {} s", timeout->count() / 1000)};
            }
            wait_ms = static_cast<int>(left.count());
        }
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
        const ssize_t got = ::recv(fd_.get(), chunk.data(), chunk.size(), 0);
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

Status Connection::write_message(std::string_view message) {
    const timeval limit{kSendTimeout.count(), 0};
    (void)::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    std::string framed(message);
    framed.push_back('\0');
    for (std::size_t done = 0; done < framed.size();) {
        const ssize_t n = ::send(fd_.get(), framed.data() + done, framed.size() - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return system_error("cannot write to the connection", errno);
        done += static_cast<std::size_t>(n);
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
