#include "sys/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "sys/unique_fd.hpp"

namespace banger {

Failure system_error(std::string_view what, int err) {
    return Failure{Outcome::SystemError, fmt::format("{}: {}", what, std::strerror(err))};
}

FileFact read_all(int fd, std::size_t cap, std::string_view what) {
    FileFact fact;
    // Left unfilled: read() writes what is used.
    std::array<char, 16384> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    while (true) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == ESRCH) return FileFact{FileState::Gone, {}, {}};
            return FileFact{FileState::Unreadable, {}, system_error(fmt::format("cannot read {}", what), errno).reason};
        }
        if (n == 0) break;
        if (fact.text.size() + static_cast<std::size_t>(n) > cap) return FileFact{FileState::TooLarge, {}, {}};
        fact.text.append(buf.data(), static_cast<std::size_t>(n));
    }
    fact.state = FileState::Read;
    return fact;
}

std::optional<std::string> read_small_file(int dir_fd, const char* name, std::size_t cap) {
    UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) return std::nullopt;
    FileFact content = read_all(fd.get(), cap, name);
    if (content.state != FileState::Read) return std::nullopt;
    return std::move(content.text);
}

UniqueDir open_dir_at(int at, const char* name) {
    int fd = ::openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return nullptr;
    DIR* dir = ::fdopendir(fd);  // owns fd from here on
    if (dir == nullptr) {
        int err = errno;
        ::close(fd);
        errno = err;
    }
    return UniqueDir(dir);
}

const struct dirent* next_entry(DIR* dir) noexcept {
    errno = 0;
    return ::readdir(dir);
}

}  // namespace banger
