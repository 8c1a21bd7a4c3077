#include "sys/confine.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <fmt/format.h>

#include "sys/io.hpp"

namespace banger {

namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
// x32 system calls share the arch but carry this bit in their number.
constexpr std::uint32_t kForeignCalls = 0x40000000U;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
constexpr std::uint32_t kForeignCalls = 0xFFFFFFFFU;  // none
#else
#error "banger-signal's seccomp filter knows x86_64 and aarch64 only"
#endif

// Calls newer than some C library headers: the same number on every
// architecture (the unified table from Linux 5.1 on).
constexpr int kSysFchmodat2 = 452;   // Linux 6.6
constexpr int kSysSetxattrat = 463;  // Linux 6.13
constexpr int kSysRemovexattrat = 466;

// Besides ptrace (below): what reads or writes another process's memory,
// executes, or opens, creates, links, renames, removes or changes files
// (data, mode, owner, extended attributes and ACLs, times) other than
// through open() (checked for its flags below); binding a socket (a path
// is a file made). io_uring would open files past this filter altogether.
constexpr std::array kDenied {
    SYS_process_vm_readv, SYS_process_vm_writev, SYS_pidfd_getfd, SYS_kcmp, SYS_process_madvise, SYS_perf_event_open,
        SYS_execve, SYS_execveat, SYS_openat2, SYS_open_by_handle_at, SYS_name_to_handle_at, SYS_io_uring_setup,
        SYS_io_uring_enter, SYS_io_uring_register, SYS_truncate, SYS_mknodat, SYS_linkat, SYS_symlinkat, SYS_renameat2,
        SYS_unlinkat, SYS_mkdirat, SYS_fchmodat, kSysFchmodat2, SYS_fchownat, SYS_fchmod, SYS_fchown, SYS_setxattr,
        SYS_lsetxattr, SYS_fsetxattr, SYS_removexattr, SYS_lremovexattr, SYS_fremovexattr, kSysSetxattrat,
        kSysRemovexattrat, SYS_utimensat, SYS_bind,
        // A message queue made is a file under /dev/mqueue, one removed too;
        // a lock (flock, and fcntl's lock commands below) on any file the
        // helper can read would stall whoever else wants it; moving another
        // process's pages changes it.
        SYS_mq_open, SYS_mq_unlink, SYS_flock, SYS_move_pages, SYS_migrate_pages,
#if defined(SYS_renameat)
        SYS_renameat,  // aarch64 has it; riscv, say, would not
#endif
#if defined(__x86_64__)
        // The older calls that aarch64 never had.
        SYS_creat, SYS_mknod, SYS_link, SYS_symlink, SYS_rename, SYS_unlink, SYS_rmdir, SYS_mkdir, SYS_chmod, SYS_chown,
        SYS_lchown, SYS_utime, SYS_utimes, SYS_futimesat,
#endif
};

// open() flags that could write, create or truncate a file.
constexpr std::uint32_t kWriteFlags = O_WRONLY | O_RDWR | O_CREAT | O_TRUNC;

// fcntl() commands that lock a file or lease it (a lease holds off others'
// opens); every other command (F_GETFD, F_SETFD, F_GETFL, ...) stays.
constexpr std::array<std::uint32_t, 5> kLockCommands{F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE};

// ioctl() requests that act on a terminal as if its user did: TIOCSTI
// pushes input into it (kernels before 6.2, or with dev.tty.legacy_tiocsti=1,
// allow it on any terminal one holds open, and a root shell's terminal is
// the helper's stdout when root runs it by hand); TIOCLINUX's selection
// paste does the same on a virtual console. Every other request stays.
constexpr std::array<std::uint32_t, 2> kTerminalInput{TIOCSTI, TIOCLINUX};

// A classic BPF program with forward jumps to named places, resolved at the
// end (jump offsets are counted in instructions, easy to get wrong by hand).
class Program {
public:
    using Label = std::size_t;

private:
    struct Jump {
        std::size_t from;
        Label to;
        bool when_true;
    };

public:
    constexpr Label label() {
        places_.push_back(kUnplaced);
        return places_.size() - 1;
    }
    constexpr void place(Label l) { places_[l] = code_.size(); }

    constexpr void load(std::uint32_t offset) { add(BPF_LD | BPF_W | BPF_ABS, offset); }
    constexpr void ret(std::uint32_t action) { add(BPF_RET | BPF_K, action); }
    // if (A op k) goto `to`; else go on.
    constexpr void jump_if(std::uint16_t op, std::uint32_t k, Label to) { branch(op, k, to, true); }
    // if (!(A op k)) goto `to`; else go on.
    constexpr void jump_unless(std::uint16_t op, std::uint32_t k, Label to) { branch(op, k, to, false); }
    constexpr void go(Label to) { branch(BPF_JA, 0, to, true); }

    // Empty if a conditional jump reaches farther than its 8 bits can say.
    [[nodiscard]] constexpr std::vector<sock_filter> finish() const {
        std::vector<sock_filter> out = code_;
        for (const Jump& j : jumps_) {
            const std::size_t offset = places_[j.to] - j.from - 1;  // forward only
            sock_filter& insn = out[j.from];
            if (BPF_OP(insn.code) == BPF_JA) {
                insn.k = static_cast<std::uint32_t>(offset);
                continue;
            }
            if (offset > 0xFF) return {};
            (j.when_true ? insn.jt : insn.jf) = static_cast<std::uint8_t>(offset);
        }
        return out;
    }

private:
    static constexpr std::size_t kUnplaced = ~std::size_t{0};
    constexpr void add(std::uint16_t code, std::uint32_t k) { code_.push_back(sock_filter{code, 0, 0, k}); }
    constexpr void branch(std::uint16_t op, std::uint32_t k, Label to, bool when_true) {
        jumps_.push_back(Jump{code_.size(), to, when_true});
        add(static_cast<std::uint16_t>(BPF_JMP | op | BPF_K), k);
    }
    std::vector<sock_filter> code_;
    std::vector<std::size_t> places_;
    std::vector<Jump> jumps_;
};

constexpr std::uint32_t arg_low_word(std::size_t i) {
    // Little-endian: the low 32 bits of an argument come first.
    return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * i);
}

// A run of consecutive call numbers, lo..hi, and where the filter goes for them.
struct Rule {
    std::uint32_t lo;
    std::uint32_t hi;
    Program::Label to;
};

// One rule per number, sorted; neighbours with the same place become one
// run (x86_64's rename..symlink, chmod..lchown, the xattr calls).
constexpr std::vector<Rule> runs(std::vector<Rule> rules) {
    std::sort(rules.begin(), rules.end(), [](const Rule& a, const Rule& b) { return a.lo < b.lo; });
    std::vector<Rule> out;
    for (const Rule& r : rules) {
        if (!out.empty() && out.back().to == r.to && out.back().hi + 1 == r.lo) {
            out.back().hi = r.hi;
        } else {
            out.push_back(r);
        }
    }
    return out;
}

// A binary search over `rules` (sorted, disjoint) on the accumulator: a few
// comparisons per call instead of one per rule. The kernel compiles the
// filter and runs it once per call number when it is installed, to find
// the calls it always allows, so its length is paid at every start.
constexpr void emit_search(Program& p, std::span<const Rule> rules, Program::Label otherwise) {
    if (rules.size() <= 3) {
        for (const Rule& r : rules) {
            if (r.lo == r.hi) {
                p.jump_if(BPF_JEQ, r.lo, r.to);
                continue;
            }
            p.jump_unless(BPF_JGE, r.lo, otherwise);  // below this run, so below every later one
            p.jump_unless(BPF_JGT, r.hi, r.to);
        }
        p.go(otherwise);
        return;
    }
    const std::size_t mid = rules.size() / 2;
    const auto upper = p.label();
    p.jump_if(BPF_JGE, rules[mid].lo, upper);
    emit_search(p, rules.first(mid), otherwise);
    p.place(upper);
    emit_search(p, rules.subspan(mid), otherwise);
}

// The program, built by the compiler (kFilter) and, for the unit test that
// checks the two are one, at run time (working_filter).
constexpr std::vector<sock_filter> build_filter() {
    Program p;
    const auto allow = p.label();
    const auto deny = p.label();
    const auto kill = p.label();
    const auto open_flags = p.label();     // open(path, flags, mode)
    const auto openat_flags = p.label();   // openat(dirfd, path, flags, mode)
    const auto fcntl_command = p.label();  // fcntl(fd, cmd, arg)
    const auto ioctl_request = p.label();  // ioctl(fd, request, arg)

    // The architecture first: in another ABI the numbers below name other calls.
    p.load(offsetof(seccomp_data, arch));
    p.jump_unless(BPF_JEQ, kArch, kill);
    p.load(offsetof(seccomp_data, nr));
    p.jump_if(BPF_JGE, kForeignCalls, kill);
    std::vector<Rule> rules;
    rules.reserve(kDenied.size() + 5);
    const auto one = [](long nr, Program::Label to) {
        return Rule{static_cast<std::uint32_t>(nr), static_cast<std::uint32_t>(nr), to};
    };
    for (int nr : kDenied) rules.push_back(one(nr, deny));
    if (kPtraceFenced) rules.push_back(one(SYS_ptrace, deny));
#if defined(SYS_open)
    rules.push_back(one(SYS_open, open_flags));
#endif
    rules.push_back(one(SYS_openat, openat_flags));
    rules.push_back(one(SYS_fcntl, fcntl_command));
    rules.push_back(one(SYS_ioctl, ioctl_request));
    emit_search(p, runs(std::move(rules)), allow);

    p.place(fcntl_command);
    p.load(arg_low_word(1));
    for (std::uint32_t command : kLockCommands) p.jump_if(BPF_JEQ, command, deny);
    p.go(allow);
    p.place(ioctl_request);
    p.load(arg_low_word(1));  // an unsigned int for the kernel: the low word is all of it
    for (std::uint32_t request : kTerminalInput) p.jump_if(BPF_JEQ, request, deny);
    p.go(allow);

    p.place(open_flags);
    p.load(arg_low_word(1));
    p.jump_if(BPF_JSET, kWriteFlags, deny);
    p.go(allow);
    p.place(openat_flags);
    p.load(arg_low_word(2));
    p.jump_if(BPF_JSET, kWriteFlags, deny);

    p.place(allow);
    p.ret(SECCOMP_RET_ALLOW);
    p.place(deny);
    p.ret(SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA));
    p.place(kill);
    p.ret(SECCOMP_RET_KILL_PROCESS);
    return p.finish();
}

constexpr std::size_t kFilterLength = build_filter().size();
static_assert(kFilterLength > 0, "the seccomp filter does not fit classic BPF's jumps");
constexpr auto kFilter = [] {
    std::array<sock_filter, kFilterLength> out{};
    const std::vector<sock_filter> built = build_filter();
    std::copy(built.begin(), built.end(), out.begin());
    return out;
}();

}  // namespace

std::span<const int> denied_calls() noexcept { return kDenied; }
std::span<const std::uint32_t> lock_commands() noexcept { return kLockCommands; }
std::span<const std::uint32_t> terminal_input_requests() noexcept { return kTerminalInput; }
std::vector<sock_filter> working_filter() { return build_filter(); }
std::span<const sock_filter> installed_filter() noexcept { return kFilter; }

Status confine_working_process() {
    std::array<sock_filter, kFilterLength> code = kFilter;  // the kernel takes it writable
    const sock_fprog program{static_cast<unsigned short>(code.size()), code.data()};
    // For every thread of the process at once (TSYNC), and every thread
    // started later. A thread that cannot take it makes the call fail.
    const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
    if (rc > 0) return Failure{Outcome::SystemError, fmt::format("thread {} cannot take the seccomp filter", rc)};
    if (rc != 0) return system_error("cannot install the seccomp filter", errno);
    return Done{};
}

}  // namespace banger
