// The seccomp filter of sys/confine.hpp, in a forked child that installs it:
// what it must refuse, and what the helper still needs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "sys/confine.hpp"

using namespace banger;

namespace {

// Runs `probe` in a child that is confined first; returns its exit status
// (the probe's return value), or -1 if it did not exit normally.
template <typename Probe>
int in_confined_child(Probe probe) {
    const pid_t child = ::fork();
    if (child == 0) {
        for (int sig : {SIGTERM, SIGINT}) (void)::signal(sig, SIG_DFL);
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) ::_exit(100);
        if (!confine_working_process()) ::_exit(101);
        ::_exit(probe());
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// 0 if the call failed with EPERM, 1 if it succeeded, 2 on another error.
int refused(long rc) { return rc < 0 ? (errno == EPERM ? 0 : 2) : 1; }

}  // namespace

TEST_CASE("confine: ptrace and its kin are refused") {
    const pid_t parent = ::getpid();
    if (kPtraceFenced) {
        CHECK(in_confined_child([&] { return refused(::ptrace(PTRACE_ATTACH, parent, nullptr, nullptr)); }) == 0);
    }
    CHECK(in_confined_child([&] {
              char buf[8];
              iovec local{buf, sizeof buf};
              iovec remote{buf, sizeof buf};
              return refused(::process_vm_readv(parent, &local, 1, &remote, 1, 0));
          }) == 0);
    CHECK(in_confined_child([&] { return refused(::syscall(SYS_pidfd_getfd, 0, 0, 0)); }) == 0);
}

TEST_CASE("confine: nothing may be opened for writing, and nothing executed") {
    const std::string path = "/tmp/banger-confine-" + std::to_string(::getpid());
    for (int flags : {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC, O_WRONLY | O_APPEND}) {
        CAPTURE(flags);
        CHECK(in_confined_child([&] { return refused(::open(path.c_str(), flags | O_CLOEXEC, 0600)); }) == 0);
        CHECK(in_confined_child([&] { return refused(::openat(AT_FDCWD, path.c_str(), flags | O_CLOEXEC, 0600)); }) ==
              0);
    }
    CHECK(::access(path.c_str(), F_OK) != 0);  // nothing was created
    CHECK(
        in_confined_child([] {
            char* const argv[] = {const_cast<char*>("true"), nullptr};  // NOLINT(cppcoreguidelines-pro-type-const-cast)
            return refused(::execve("/bin/true", argv, nullptr));
        }) == 0);
}

TEST_CASE("confine: what the helper needs still works") {
    CHECK(in_confined_child([] { return ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child(
              [] { return ::openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::write(STDERR_FILENO, "", 0) == 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::syscall(SYS_pidfd_open, ::getpid(), 0) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::kill(::getpid(), 0) == 0 ? 0 : 1; }) == 0);
}
