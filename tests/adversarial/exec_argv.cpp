// exec-argv: execve(2) a program with exactly the argument vector given,
// for the adversarial tests only (never installed). Python's os.execv and
// subprocess refuse an empty argv; the kernel and a hostile caller do not.
//
//   exec-argv PATH            argv = { NULL }           (argc == 0)
//   exec-argv PATH A0 A1 ...  argv = { A0, A1, ..., NULL } (A0 may be "")
//
// The environment is passed on unchanged. Exit 127 if the exec fails.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

extern char** environ;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fputs("usage: exec-argv PATH [ARGV0 [ARG...]]\n", stderr);
        return 64;
    }
    // argv[argc] is NULL, so argv + 2 is a valid, possibly empty, vector.
    ::execve(argv[1], argv + 2, environ);
    std::fprintf(stderr, "exec-argv: %s: %s\n", argv[1], std::strerror(errno));
    return 127;
}
