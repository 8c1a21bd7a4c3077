// Stand-in for Firecracker, for the integration tests only (never installed).
//
// Built twice from this file: as `firecracker` (the exe basename banger-signal's
// api-sock fallback accepts) and as `fc-impostor` (same code, another exe name,
// to prove that argv[0] = "firecracker" proves nothing).
//
// Command line: the api socket is taken from the first of `--api-sock P`,
// `--api-sock=P` or `-a P`; every other argument is ignored.
// Environment:
//   STANDIN_NO_BIND=1      claim the socket on the command line but hold none
//   STANDIN_NO_LISTEN=1    bind the socket but never listen() on it
//   STANDIN_BIND_PATH=P    bind P instead of the path on the command line
//   STANDIN_IGNORE_TERM=1  ignore SIGTERM
//   STANDIN_CHURN_FDS=1    once ready, open and close a file in a loop (fds come and go)
//   STANDIN_FORGE_NET_UNIX=1  hold no socket at the claimed path, but listen on an
//                          abstract socket whose name forges a /proc/net/unix line
//                          "listening at <claimed path>" with this socket's inode
//   STANDIN_DROP_ARGS=1    give back the pages wholly inside the argument strings
//                          once set up, so that /proc/<pid>/pagemap shows whether
//                          anyone has read /proc/<pid>/cmdline since (a command
//                          line of two pages or more)
//   STANDIN_ARGS_ON=F      once set up, map file F over the pages wholly inside the
//                          last argument (a long one): its argument pages are then
//                          a file's, as an owner who serves F from FUSE would make them
//   STANDIN_READY_FD=N     write "ready\n" there once set up (default: stdout)
// Every other signal banger-signal may send keeps its default action, so the
// parent can tell from waitpid() which signal arrived.
#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

constexpr int exit_setup_failed = 70;

bool env_is_one(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && std::string_view{value} == "1";
}

std::string api_sock_from_args(int argc, char** argv) {
    constexpr std::string_view long_eq = "--api-sock=";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg{argv[i]};
        if ((arg == "--api-sock" || arg == "-a") && i + 1 < argc) {
            return argv[i + 1];
        }
        if (arg.starts_with(long_eq)) {
            return std::string{arg.substr(long_eq.size())};
        }
    }
    return {};
}

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "standin: %s: %s\n", what, std::strerror(errno));
    std::_Exit(exit_setup_failed);
}

void reset_signals(bool ignore_term) {
    // Dispositions ignored by whoever spawned us survive exec; reset them.
    for (const int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGABRT}) {
        std::signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (ignore_term) {
        std::signal(SIGTERM, SIG_IGN);
    }
}

void bind_listening_socket(const std::string& path, bool do_listen) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        die("api socket path empty or too long");
    }
    path.copy(addr.sun_path, path.size());
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("socket");
    }
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        die("bind");
    }
    if (do_listen && listen(fd, 8) != 0) {
        die("listen");
    }
    // fd stays open for the life of the process: that is the point.
}

// The kernel prints abstract names in /proc/net/unix byte for byte, newlines
// included: a name can end its own line and write a whole second one.
void bind_forged_abstract_socket(const std::string& claimed) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        die("socket");
    }
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        die("fstat");
    }
    // Num: RefCount Protocol Flags(__SO_ACCEPTCON) Type St(SS_UNCONNECTED) Inode Path,
    // without the kernel's zero padding, to fit sun_path.
    const std::string forged = "x\n0: 2 0 10000 1 1 " + std::to_string(st.st_ino) + " " + claimed;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (forged.size() + 1 > sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        die("forged name too long");
    }
    forged.copy(addr.sun_path + 1, forged.size());  // sun_path[0] == '\0': abstract
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + forged.size());
    if (bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
        die("bind abstract");
    }
    if (listen(fd, 8) != 0) {
        die("listen");
    }
}

// The pages wholly inside the argument strings are given back (they read
// as zeros from then on, and nothing here reads them again): until someone
// reads /proc/<pid>/cmdline, which faults them in, /proc/<pid>/pagemap shows
// them not present. So a test can tell whether banger-signal read it.
// argv must span two pages or more (pass a long argument).
void drop_argument_pages(int argc, char** argv) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(argv[0]);
    const auto last = reinterpret_cast<std::uintptr_t>(argv[argc - 1]) + std::strlen(argv[argc - 1]) + 1;
    const std::uintptr_t lo = (first + page - 1) / page * page;
    const std::uintptr_t hi = last / page * page;
    if (hi <= lo) {
        errno = EINVAL;
        die("STANDIN_DROP_ARGS needs a command line of two pages or more");
    }
    if (madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED) != 0) {
        die("madvise");
    }
}

// The pages wholly inside the last argument become file F's (read-only,
// private): reading them means reading F.
void map_last_argument_on(const char* file, int argc, char** argv) {
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto first = reinterpret_cast<std::uintptr_t>(argv[argc - 1]);
    const std::uintptr_t last = first + std::strlen(argv[argc - 1]);
    const std::uintptr_t lo = (first + page - 1) / page * page;
    const std::uintptr_t hi = last / page * page;
    if (hi <= lo) {
        errno = EINVAL;
        die("STANDIN_ARGS_ON needs a last argument of two pages or more");
    }
    const int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        die("open STANDIN_ARGS_ON");
    }
    if (mmap(reinterpret_cast<void*>(lo), hi - lo, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
        die("mmap STANDIN_ARGS_ON");
    }
    close(fd);
}

int ready_fd() {
    const char* value = std::getenv("STANDIN_READY_FD");
    if (value == nullptr) {
        return STDOUT_FILENO;
    }
    char* end = nullptr;
    const long fd = std::strtol(value, &end, 10);
    if (end == value || *end != '\0' || fd < 0 || fd > 1024) {
        errno = EBADF;
        die("STANDIN_READY_FD");
    }
    return static_cast<int>(fd);
}

}  // namespace

int main(int argc, char** argv) {
    reset_signals(env_is_one("STANDIN_IGNORE_TERM"));

    if (env_is_one("STANDIN_FORGE_NET_UNIX")) {
        bind_forged_abstract_socket(api_sock_from_args(argc, argv));
    } else if (!env_is_one("STANDIN_NO_BIND")) {
        const char* override_path = std::getenv("STANDIN_BIND_PATH");
        const std::string path = override_path != nullptr ? std::string{override_path} : api_sock_from_args(argc, argv);
        if (!path.empty()) {
            bind_listening_socket(path, !env_is_one("STANDIN_NO_LISTEN"));
        }
    }

    if (env_is_one("STANDIN_DROP_ARGS")) {
        drop_argument_pages(argc, argv);
    }
    if (const char* file = std::getenv("STANDIN_ARGS_ON")) {
        map_last_argument_on(file, argc, argv);
    }

    const int fd = ready_fd();
    constexpr std::string_view ready = "ready\n";
    if (write(fd, ready.data(), ready.size()) != static_cast<ssize_t>(ready.size())) {
        die("write ready");
    }
    if (fd != STDOUT_FILENO) {
        close(fd);
    }

    if (env_is_one("STANDIN_CHURN_FDS")) {
        for (;;) {
            const int churn = open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (churn >= 0) {
                close(churn);
            }
        }
    }
    for (;;) {
        pause();
    }
}
