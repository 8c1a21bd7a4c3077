#include "sys/config_file.hpp"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "sys/hardening.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

namespace {

constexpr off_t kMaxConfigSize = off_t{64} * 1024;

Failure config_error(std::string reason) { return Failure{Outcome::ConfigError, std::move(reason)}; }

// Whoever could replace a directory above the file could replace the file:
// the directories must be as safe as the binary's, on the path with its
// symlinks resolved (a symlink's own mode means nothing).
std::optional<std::string> unsafe_place(const std::string& path, const struct stat& file) {
    if (!path.starts_with('/')) return "not an absolute path";
    const std::size_t slash = path.rfind('/');
    const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
    std::array<char, PATH_MAX> resolved{};
    if (::realpath(parent.c_str(), resolved.data()) == nullptr) return "cannot resolve its directory";
    std::string canonical(resolved.data());
    if (canonical != "/") canonical += '/';
    return unsafe_file_location(canonical + path.substr(slash + 1), file);
}

}  // namespace

Result<Config> load_config_file(const std::string& path, bool required) {
    // O_NOFOLLOW: a symlink is refused, not followed. O_NONBLOCK: a FIFO
    // cannot make us hang at open; it is refused by the S_ISREG check below.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        int err = errno;
        if (err == ENOENT && !required) return Config{};
        if (err == ELOOP) return config_error(fmt::format("{}: is a symbolic link", path));
        return config_error(fmt::format("{}: cannot open: {}", path, std::strerror(err)));
    }
    // Judge the file we opened, not the name (which could change under us).
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return config_error(fmt::format("{}: fstat: {}", path, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return config_error(fmt::format("{}: not a regular file", path));
    if (st.st_uid != 0) return config_error(fmt::format("{}: owned by uid {}, must be owned by root", path, st.st_uid));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return config_error(fmt::format("{}: writable by group or others (mode {:04o})", path, st.st_mode & 07777));
    }
    if (st.st_size > kMaxConfigSize) return config_error(fmt::format("{}: larger than {} bytes", path, kMaxConfigSize));
    if (auto unsafe = unsafe_place(path, st)) return config_error(fmt::format("{}: {}", path, *unsafe));

    std::string text(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return config_error(fmt::format("{}: read: {}", path, std::strerror(errno)));
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    return parse_config(text, path);
}

}  // namespace banger
