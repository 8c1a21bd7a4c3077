// The seccomp filter of sys/confine.hpp, in a forked child that installs it:
// what it must refuse, and what the helper still needs.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

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

constexpr std::uint32_t kNoAnswer = 0xFFFF'FFFFU;  // the program broke a rule below
constexpr std::uint32_t kDeny = SECCOMP_RET_ERRNO | EPERM;

// Runs a classic BPF program as the kernel would, for what installed_filter()
// may emit: word loads from seccomp_data, jumps on constants, returns.
// kNoAnswer for anything else, a load out of bounds, or running off the end.
std::uint32_t run_filter(const std::vector<sock_filter>& prog, const seccomp_data& data) {
    std::uint32_t a = 0;
    for (std::size_t pc = 0; pc < prog.size();) {
        const sock_filter& insn = prog[pc++];
        if (insn.code == (BPF_LD | BPF_W | BPF_ABS)) {
            if (insn.k % 4 != 0 || insn.k + 4 > sizeof data) return kNoAnswer;
            std::memcpy(&a, reinterpret_cast<const unsigned char*>(&data) + insn.k, 4);  // NOLINT
        } else if (insn.code == (BPF_RET | BPF_K)) {
            return insn.k;
        } else if (insn.code == (BPF_JMP | BPF_JA)) {
            pc += insn.k;
        } else if (BPF_CLASS(insn.code) == BPF_JMP && BPF_SRC(insn.code) == BPF_K) {
            bool taken = false;
            switch (BPF_OP(insn.code)) {
                case BPF_JEQ: taken = a == insn.k; break;
                case BPF_JGE: taken = a >= insn.k; break;
                case BPF_JGT: taken = a > insn.k; break;
                case BPF_JSET: taken = (a & insn.k) != 0; break;
                default: return kNoAnswer;
            }
            pc += taken ? insn.jt : insn.jf;
        } else {
            return kNoAnswer;
        }
    }
    return kNoAnswer;
}

seccomp_data call(std::uint32_t nr, std::uint32_t arch, std::uint64_t flags_arg = 0, std::size_t flags_at = 0) {
    seccomp_data d{};
    d.nr = static_cast<int>(nr);
    d.arch = arch;
    d.args[flags_at] = flags_arg;
    return d;
}

#if defined(__x86_64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_X86_64;
constexpr std::uint32_t kForeignArch = AUDIT_ARCH_I386;
#elif defined(__aarch64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
constexpr std::uint32_t kForeignArch = AUDIT_ARCH_ARM;
#endif

}  // namespace

TEST_CASE("confine: the program the compiler built is the one the same code builds at run time") {
    const std::vector<sock_filter> built = working_filter();
    const std::span<const sock_filter> installed = installed_filter();
    REQUIRE(built.size() == installed.size());
    for (std::size_t i = 0; i < built.size(); ++i) {
        CAPTURE(i);
        CHECK(built[i].code == installed[i].code);
        CHECK(built[i].jt == installed[i].jt);
        CHECK(built[i].jf == installed[i].jf);
        CHECK(built[i].k == installed[i].k);
    }
}

TEST_CASE("confine: the program, run over every call number, refuses exactly what it lists") {
    const std::span<const sock_filter> installed = installed_filter();
    const std::vector<sock_filter> prog(installed.begin(), installed.end());
    REQUIRE_FALSE(prog.empty());
    const auto denied = denied_calls();
    REQUIRE(denied.size() > 40);
    for (std::uint32_t nr = 0; nr < 1024; ++nr) {
        CAPTURE(nr);
        CHECK(run_filter(prog, call(nr, kForeignArch)) == SECCOMP_RET_KILL_PROCESS);
        bool listed = std::find(denied.begin(), denied.end(), static_cast<int>(nr)) != denied.end();
        if (nr == SYS_ptrace) listed = kPtraceFenced;
        std::size_t flags_at = 0;
#if defined(SYS_open)
        if (nr == SYS_open) flags_at = 1;
#endif
        if (nr == SYS_openat) flags_at = 2;
        if (nr == SYS_fcntl) {
            for (int ok : {F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, F_GETLK, F_OFD_GETLK}) {
                CHECK(run_filter(prog, call(nr, kNativeArch, static_cast<std::uint32_t>(ok), 1)) == SECCOMP_RET_ALLOW);
            }
            for (std::uint32_t locking : lock_commands())
                CHECK(run_filter(prog, call(nr, kNativeArch, locking, 1)) == kDeny);
            // The command is an unsigned int: only the low word counts, as for the kernel.
            CHECK(run_filter(prog, call(nr, kNativeArch, (std::uint64_t{1} << 32) | F_SETLK, 1)) == kDeny);
            continue;
        }
        if (nr == SYS_ioctl) {
            for (int ok : {TCGETS, TIOCGWINSZ, FIONREAD, FIOCLEX}) {
                CHECK(run_filter(prog, call(nr, kNativeArch, static_cast<std::uint32_t>(ok), 1)) == SECCOMP_RET_ALLOW);
            }
            REQUIRE(terminal_input_requests().size() == 2);
            for (std::uint32_t typing : terminal_input_requests())
                CHECK(run_filter(prog, call(nr, kNativeArch, typing, 1)) == kDeny);
            CHECK(run_filter(prog, call(nr, kNativeArch, (std::uint64_t{1} << 32) | TIOCSTI, 1)) == kDeny);
            continue;
        }
        if (flags_at != 0) {
            CHECK(run_filter(prog, call(nr, kNativeArch, static_cast<std::uint32_t>(O_RDONLY | O_CLOEXEC | O_DIRECTORY),
                                        flags_at)) == SECCOMP_RET_ALLOW);
            for (int writing : {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_RDONLY | O_CREAT | O_EXCL}) {
                CHECK(run_filter(prog, call(nr, kNativeArch, static_cast<std::uint32_t>(writing), flags_at)) == kDeny);
            }
            continue;
        }
        CHECK(run_filter(prog, call(nr, kNativeArch)) == (listed ? kDeny : SECCOMP_RET_ALLOW));
    }
#if defined(__x86_64__)
    for (std::uint32_t x32 : {0x4000'0000U, 0x4000'0000U | SYS_read, 0x4000'0000U | SYS_kill, 0xFFFF'FFFFU}) {
        CHECK(run_filter(prog, call(x32, kNativeArch)) == SECCOMP_RET_KILL_PROCESS);
    }
#endif
}

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

// Runs `probe` in a child that is not confined: the control.
template <typename Probe>
int in_plain_child(Probe probe) {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(probe());
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A directory of its own under /tmp, removed with whatever a wrong filter
// let a probe make in it.
struct Scratch {
    std::string dir;
    Scratch() {
        char name[] = "/tmp/banger-confine-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        dir = name;
    }
    ~Scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
};

TEST_CASE("confine: files are not created, linked, renamed, removed or changed past open()") {
    const Scratch scratch;
    const std::string file = scratch.dir + "/file";
    const std::string other = scratch.dir + "/other";
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "x", 1) == 1);
    const char* f = file.c_str();
    const char* o = other.c_str();
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    const timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    CHECK(in_confined_child([&] { return refused(::truncate(f, 1)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::ftruncate(fd, 1)) == 1 ? 0 : 1; }) == 0);  // its own fd: allowed
    CHECK(in_confined_child([&] { return refused(::link(f, o)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::linkat(AT_FDCWD, f, AT_FDCWD, o, 0)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::symlink(f, o)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::rename(f, o)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::renameat(AT_FDCWD, f, AT_FDCWD, o)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::syscall(SYS_renameat2, AT_FDCWD, f, AT_FDCWD, o, 0)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::unlink(f)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::unlinkat(AT_FDCWD, f, 0)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::mkdir(o, 0700)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::mknod(o, S_IFREG | 0600, 0)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::chmod(f, 0600)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::fchmod(fd, 0600)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::syscall(452, AT_FDCWD, f, 0600, 0)); }) == 0);  // fchmodat2
    // To its own owner: allowed for anyone, so only the filter can refuse it.
    CHECK(in_confined_child([&] { return refused(::chown(f, uid, gid)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::fchown(fd, uid, gid)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::setxattr(f, "user.banger", "x", 1, 0)); }) == 0);
    CHECK(in_confined_child([&] { return refused(::removexattr(f, "user.banger")); }) == 0);
    CHECK(in_confined_child([&] { return refused(::utimensat(AT_FDCWD, f, now, 0)); }) == 0);
    CHECK(in_confined_child([&] {
              const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
              sockaddr_un addr{};
              addr.sun_family = AF_UNIX;
              std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", o);
              return refused(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr));  // NOLINT
          }) == 0);
    // Calls the kernel may refuse with EPERM by itself (io_uring disabled, no
    // CAP_DAC_READ_SEARCH): checked where the unconfined control gets further.
    const auto open_by_handle = [] { return refused(::syscall(SYS_open_by_handle_at, AT_FDCWD, nullptr, O_RDONLY)); };
    const auto io_uring = [] { return refused(::syscall(SYS_io_uring_setup, 1, nullptr)); };
    for (auto probe : {+open_by_handle, +io_uring}) {
        if (in_plain_child(probe) == 0) continue;  // EPERM without the filter: proves nothing
        CHECK(in_confined_child(probe) == 0);
    }
    struct stat st {};
    CHECK(::stat(f, &st) == 0);
    CHECK(st.st_size == 1);               // not truncated
    CHECK((st.st_mode & 07777) == 0600);  // not changed
    CHECK(::access(o, F_OK) != 0);        // nothing made beside it
    ::close(fd);
}

TEST_CASE("confine: no lock, lease, message queue, moving another process's pages, or typing into a terminal") {
    const Scratch scratch;
    const std::string file = scratch.dir + "/file";
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    const auto set_lock = [fd](int command) {
        return [fd, command] {
            struct flock lock {};
            lock.l_type = F_RDLCK;
            lock.l_whence = SEEK_SET;
            return refused(::fcntl(fd, command, &lock));
        };
    };
    for (int command : {F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW}) {
        CAPTURE(command);
        CHECK(in_plain_child(set_lock(command)) == 1);  // the control: a lock is had
        CHECK(in_confined_child(set_lock(command)) == 0);
    }
    CHECK(in_confined_child([fd] { return refused(::flock(fd, LOCK_SH)); }) == 0);
    CHECK(in_confined_child([fd] { return refused(::fcntl(fd, F_SETLEASE, F_RDLCK)); }) == 0);
    CHECK(in_confined_child([fd] { return ::fcntl(fd, F_GETFD) >= 0 ? 0 : 1; }) == 0);  // still there
    // Input pushed into a terminal (a root shell's, when root runs the helper by hand).
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);  // NOLINT(concurrency-mt-unsafe)
    REQUIRE(terminal >= 0);
    const auto type = [terminal] {
        const char c = 'x';
        return refused(::ioctl(terminal, TIOCSTI, &c));
    };
    CHECK(in_plain_child(type) == 1);  // the control: root may type into it
    CHECK(in_confined_child(type) == 0);
    CHECK(in_confined_child([terminal] {
              winsize size{};
              return ::ioctl(terminal, TIOCGWINSZ, &size) == 0 ? 0 : 1;
          }) == 0);
    ::close(terminal);
    ::close(master);
    const std::string queue = "/banger-confine-" + std::to_string(::getpid());
    CHECK(in_confined_child([&] {
              return refused(::syscall(SYS_mq_open, queue.c_str() + 1, O_RDWR | O_CREAT | O_EXCL, 0600, nullptr));
          }) == 0);
    CHECK(::access(("/dev/mqueue" + queue).c_str(), F_OK) != 0);  // nothing was made
    CHECK(in_confined_child([&] { return refused(::syscall(SYS_mq_unlink, queue.c_str() + 1)); }) == 0);
    const pid_t parent = ::getpid();
    CHECK(in_confined_child(
              [parent] { return refused(::syscall(SYS_move_pages, parent, 0, nullptr, nullptr, nullptr, 0)); }) == 0);
    CHECK(in_confined_child([parent] { return refused(::syscall(SYS_migrate_pages, parent, 0, nullptr, nullptr)); }) ==
          0);
    ::close(fd);
}

TEST_CASE("confine: a thread that exists already is confined too") {
    // A thread is started first; then the main thread installs the filter;
    // then the thread tries to open a file for writing.
    const pid_t child = ::fork();
    if (child == 0) {
        for (int sig : {SIGTERM, SIGINT}) (void)::signal(sig, SIG_DFL);
        std::atomic<bool> confined{false};
        int seen = 3;
        std::thread before([&] {
            while (!confined.load()) std::this_thread::yield();
            seen = refused(::open("/tmp", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600));
        });
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) ::_exit(100);
        if (!confine_working_process()) ::_exit(101);
        confined.store(true);
        before.join();
        ::_exit(seen);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("confine: what the helper needs still works") {
    CHECK(in_confined_child([] { return ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child(
              [] { return ::openat(AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::write(STDERR_FILENO, "", 0) == 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::syscall(SYS_pidfd_open, ::getpid(), 0) >= 0 ? 0 : 1; }) == 0);
    CHECK(in_confined_child([] { return ::kill(::getpid(), 0) == 0 ? 0 : 1; }) == 0);
}
