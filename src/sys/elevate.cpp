#include "sys/elevate.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "build_config.hpp"
#include "sys/proc_root.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

namespace {

constexpr const char* kPkexec = "/usr/bin/pkexec";
// There is never a terminal to ask: pkexec must not start its own agent.
constexpr const char* kNoAgent = "--disable-internal-agent";
// pkexec keeps SHELL, LANG, LC_*, TERM... of the caller and aborts when one
// is unusual; it needs none of them. The C locale keeps its lines readable
// by read_pkexec_exit().
constexpr std::array<const char*, 2> kEnvironment{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", nullptr};
constexpr rlim_t kPkexecFiles = 1024;
constexpr std::size_t kKeptStderr = 4096;  // enough for pkexec's lines

Elevation failed(Outcome outcome, std::string message) {
    return Elevation{std::nullopt, Failure{outcome, std::move(message)}, std::nullopt};
}

// Everything the child writes on the pipe goes on to our stderr; the start
// of it is kept.
std::string relay(int from) {
    std::string kept;
    std::array<char, 4096> buf{};
    while (true) {
        ssize_t n = ::read(from, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        const auto got = static_cast<std::size_t>(n);
        for (std::size_t done = 0; done < got;) {
            ssize_t w = ::write(STDERR_FILENO, buf.data() + done, got - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;  // nobody reads our stderr: keep reading ours
            done += static_cast<std::size_t>(w);
        }
        if (kept.size() < kKeptStderr) kept.append(buf.data(), std::min(got, kKeptStderr - kept.size()));
    }
    return kept;
}

}  // namespace

Elevation elevate_through_pkexec(int argc, char** argv) {
    auto self = own_executable_path();
    if (!self) return failed(self.failure().outcome, self.failure().reason);
    const std::string& self_path = self.value();
    if (self_path != BANGER_INSTALLED_PATH) {
        return failed(Outcome::NotAuthorized,
                      "banger-signal must run as root, and only the installed " BANGER_INSTALLED_PATH
                      " can be elevated through pkexec (this is " +
                          self_path + "); install it, or run it as root");
    }

    std::vector<char*> args;
    args.push_back(const_cast<char*>(kPkexec));   // NOLINT(cppcoreguidelines-pro-type-const-cast): execve's signature
    args.push_back(const_cast<char*>(kNoAgent));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    args.push_back(const_cast<char*>(BANGER_INSTALLED_PATH));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);

    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0)
        return failed(Outcome::SystemError, std::string("pipe: ") + std::strerror(errno));
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    posix_spawn_file_actions_t actions;
    if (::posix_spawn_file_actions_init(&actions) != 0 ||
        ::posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO) != 0) {
        return failed(Outcome::SystemError, "cannot prepare pkexec's stderr");
    }
    // The child inherits our limit: lower the soft one for the spawn only.
    rlimit files{};
    const bool lowered = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur > kPkexecFiles;
    if (lowered) {
        const rlimit low{kPkexecFiles, files.rlim_max};
        (void)::setrlimit(RLIMIT_NOFILE, &low);
    }
    pid_t child = 0;
    // pkexec is setuid root: it must not inherit no_new_privs, and this path
    // never sets it.
    int err =
        ::posix_spawn(&child, kPkexec, &actions, nullptr, args.data(),
                      const_cast<char* const*>(
                          kEnvironment.data()));  // NOLINT(cppcoreguidelines-pro-type-const-cast): execve's signature
    (void)::posix_spawn_file_actions_destroy(&actions);
    if (lowered) (void)::setrlimit(RLIMIT_NOFILE, &files);
    write_end.reset();
    if (err != 0)
        return failed(Outcome::NotAuthorized, std::string("cannot run ") + kPkexec + ": " + std::strerror(err));

    const std::string said = relay(read_end.get());
    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return failed(Outcome::SystemError, std::string("waitpid: ") + std::strerror(errno));
    }
    if (WIFSIGNALED(status)) {
        return failed(Outcome::SystemError,
                      std::string("pkexec was killed by signal ") + std::to_string(WTERMSIG(status)));
    }
    if (auto refusal = read_pkexec_exit(WEXITSTATUS(status), said)) {
        return Elevation{std::nullopt, Failure{Outcome::NotAuthorized, {}}, std::move(refusal)};
    }
    return Elevation{WEXITSTATUS(status), Failure{}, std::nullopt};
}

}  // namespace banger
