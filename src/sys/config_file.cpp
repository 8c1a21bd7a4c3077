#include "sys/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "policy/location.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

namespace {

constexpr off_t kMaxConfigSize = off_t{64} * 1024;

Failure config_error(std::string reason) { return Failure{Outcome::ConfigError, std::move(reason)}; }

// Opens `path` one component at a time from "/", never following a
// symlink, and judges each directory by fstat() on the very fd the next step
// opens from: whoever could replace a directory above the file could
// replace the file, so every directory must be as safe as the binary's
// (root's, not writable by group or others, unless sticky). Nothing can be
// swapped between a check and its use. ENOENT is returned as errno 0 in
// `missing`, so that a missing default file can mean the defaults.
struct Opened {
    UniqueFd fd;
    std::vector<PathEntry> directories;  // "/" first
};

// "/" + "etc" -> "/etc"; "/etc" + "banger" -> "/etc/banger".
std::string below(const std::string& dir, const std::string& name) {
    std::string path = dir;
    if (path != "/") path += '/';
    path += name;
    return path;
}

Result<Opened> open_without_symlinks(const std::string& path, bool& missing) {
    missing = false;
    if (!path.starts_with('/')) return config_error(fmt::format("{}: not an absolute path", path));
    Opened opened;
    UniqueFd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    std::string so_far = "/";
    std::string_view rest = std::string_view(path).substr(1);
    while (true) {
        struct stat st {};
        if (!dir.valid() || ::fstat(dir.get(), &st) != 0) {
            return config_error(fmt::format("{}: cannot open {}: {}", path, so_far, std::strerror(errno)));
        }
        opened.directories.push_back(PathEntry{so_far, st.st_uid, st.st_mode});
        const std::size_t slash = rest.find('/');
        const std::string name(rest.substr(0, slash));
        if (name.empty() || name == "." || name == "..") {
            return config_error(fmt::format("{}: not a normalized path", path));
        }
        const bool last = slash == std::string_view::npos;
        // O_NONBLOCK: a FIFO cannot make us hang at open (S_ISREG refuses it).
        const int flags = last ? O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
                               : O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
        UniqueFd next(::openat(dir.get(), name.c_str(), flags));
        if (!next.valid()) {
            const int err = errno;
            const std::string at = below(so_far, name);
            if (err == ENOENT) {
                missing = true;
                return config_error(fmt::format("{}: cannot open: {}", path, std::strerror(err)));
            }
            if (err == ELOOP || (err == ENOTDIR && !last)) {
                return config_error(fmt::format("{}: {} is a symbolic link or not a directory", path, at));
            }
            return config_error(fmt::format("{}: cannot open {}: {}", path, at, std::strerror(err)));
        }
        if (last) {
            opened.fd = std::move(next);
            return opened;
        }
        so_far = below(so_far, name);
        dir = std::move(next);
        rest.remove_prefix(slash + 1);
    }
}

}  // namespace

Result<Config> load_config_file(const std::string& path, bool required) {
    // No symlink anywhere on the path: one is refused, never followed.
    bool missing = false;
    auto opened = open_without_symlinks(path, missing);
    if (!opened) {
        if (missing && !required) return Config{};
        return std::move(opened).failure();
    }
    const Opened file = std::move(opened).value();
    const UniqueFd& fd = file.fd;
    // Judge the file we opened, not the name (which could change under us).
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return config_error(fmt::format("{}: fstat: {}", path, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return config_error(fmt::format("{}: not a regular file", path));
    if (st.st_uid != 0) return config_error(fmt::format("{}: owned by uid {}, must be owned by root", path, st.st_uid));
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return config_error(fmt::format("{}: writable by group or others (mode {:04o})", path, st.st_mode & 07777));
    }
    if (st.st_size > kMaxConfigSize) return config_error(fmt::format("{}: larger than {} bytes", path, kMaxConfigSize));
    // The file and every directory above it, as they were opened.
    std::vector<PathEntry> chain{PathEntry{path, st.st_uid, st.st_mode}};
    chain.insert(chain.end(), file.directories.rbegin(), file.directories.rend());
    if (auto unsafe = unsafe_location(chain)) return config_error(fmt::format("{}: {}", path, *unsafe));

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
