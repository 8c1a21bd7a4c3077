#include "sys/elevate.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "build_config.hpp"
#include "policy/authorization.hpp"
#include "sys/proc_root.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, not declared by <unistd.h> in C++

namespace banger {

namespace {

constexpr const char* kPkexec = "/usr/bin/pkexec";

Elevation failed(Outcome outcome, std::string message) {
    return Elevation{std::nullopt, Failure{outcome, std::move(message)}, std::nullopt};
}

}  // namespace

Elevation elevate_through_pkexec(int argc, char** argv) {
    auto self = own_executable_path();
    if (!self) return failed(self.failure().outcome, self.failure().reason);
    const std::string& self_path = self.value();
    if (self_path != BANGER_INSTALLED_PATH) {
        return failed(Outcome::NotAuthorized,
                      "banger-signal must run as root, and only the installed " BANGER_INSTALLED_PATH
                      " can be elevated through pkexec (this is " + self_path + "); install it, or run it as root");
    }

    std::vector<char*> args;
    args.push_back(const_cast<char*>(kPkexec));               // NOLINT(cppcoreguidelines-pro-type-const-cast): execve's signature
    args.push_back(const_cast<char*>(BANGER_INSTALLED_PATH));  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);

    pid_t child = 0;
    // pkexec is setuid root: it must not inherit no_new_privs, and this path
    // never sets it. pkexec sanitizes the environment itself.
    int err = ::posix_spawn(&child, kPkexec, nullptr, nullptr, args.data(), environ);
    if (err != 0) return failed(Outcome::NotAuthorized, std::string("cannot run ") + kPkexec + ": " + std::strerror(err));

    int status = 0;
    while (::waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return failed(Outcome::SystemError, std::string("waitpid: ") + std::strerror(errno));
    }
    if (WIFSIGNALED(status)) {
        return failed(Outcome::SystemError, std::string("pkexec was killed by signal ") + std::to_string(WTERMSIG(status)));
    }
    ElevatedExit mapped = map_pkexec_exit(WEXITSTATUS(status));
    if (!mapped.message.empty()) {
        return Elevation{std::nullopt, Failure{Outcome::NotAuthorized, mapped.message}, WEXITSTATUS(status)};
    }
    return Elevation{mapped.code, Failure{}, std::nullopt};
}

}  // namespace banger
