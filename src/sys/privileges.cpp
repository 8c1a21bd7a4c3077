#include "sys/privileges.hpp"

#include <cap-ng.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>

#include <fmt/format.h>

#include "build_config.hpp"
#include "policy/passwd.hpp"
#include "policy/proc_status.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

namespace {

// What the helper works with: signal other users' processes, read their
// /proc/<pid>/exe and fd/, read below /proc/<pid> and the runtime dir.
constexpr std::array kWorkingCaps{CAP_KILL, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH};
// And, as root until the switch, what switching takes.
constexpr std::array kSwitchingCaps{CAP_SETUID, CAP_SETGID};

constexpr std::uint64_t mask_of(std::span<const int> caps) {
    std::uint64_t mask = 0;
    for (int cap : caps) mask |= std::uint64_t{1} << cap;
    return mask;
}
constexpr std::uint64_t kWorkingCapabilities = mask_of(kWorkingCaps);
// And once it is done reading.
constexpr std::array kSignallingCaps{CAP_KILL};
constexpr std::uint64_t kSignallingCapabilities = mask_of(kSignallingCaps);

// libcap-ng's state becomes exactly `caps`, effective and permitted, from
// an empty one (the sets of `clear`).
bool build_capability_set(capng_select_t clear, std::initializer_list<std::span<const int>> caps) {
    capng_clear(clear);
    const auto both = static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED);
    for (std::span<const int> group : caps) {
        for (int cap : group) {
            if (capng_update(CAPNG_ADD, both, static_cast<unsigned int>(cap)) != 0) return false;
        }
    }
    return true;
}

Failure failed(std::string_view what) { return system_error(what, errno); }

// Every capability the kernel knows leaves the bounding set (it answers
// EINVAL past the last one); needs CAP_SETPCAP, so root's first step.
bool empty_bounding_set() noexcept {
    for (unsigned long cap = 0; cap < 64; ++cap) {
        if (::prctl(PR_CAPBSET_DROP, cap, 0UL, 0UL, 0UL) == 0) continue;
        return errno == EINVAL && cap > 0;
    }
    return true;
}

}  // namespace

Status verify_working_threads(const HelperUser& user, bool confined, bool instance, Phase phase) {
    const std::uint64_t allowed = phase == Phase::Reading ? kWorkingCapabilities : kSignallingCapabilities;
    UniqueDir tasks = open_dir_at(AT_FDCWD, "/proc/self/task");
    if (!tasks) return failed("cannot list /proc/self/task");
    std::size_t seen = 0;
    while (const struct dirent* entry = next_entry(tasks.get())) {
        if (entry->d_name[0] == '.') continue;
        const std::string name = std::string(entry->d_name) + "/status";
        auto status = read_small_file(::dirfd(tasks.get()), name.c_str(), 16384);
        auto creds = status ? parse_status_credentials(*status) : std::nullopt;
        if (!creds) {
            return Failure{Outcome::SystemError,
                           fmt::format("cannot read the credentials of thread {}", entry->d_name)};
        }
        auto excess =
            excess_privilege(*creds, user.uid, user.gid, allowed, instance ? kWorkingCapabilities : 0, instance);
        if (!excess && confined) excess = unconfined(*creds);
        if (excess) {
            return Failure{Outcome::SystemError,
                           fmt::format("thread {} kept more privilege than it may: {}", entry->d_name, *excess)};
        }
        ++seen;
    }
    if (seen == 0) return Failure{Outcome::SystemError, "/proc/self/task lists no thread"};
    return Done{};
}

Result<HelperUser> find_helper_user(bool* unchecked_password) {
    // Large enough for any /etc/passwd a host keeps; read whole or not at all.
    constexpr std::size_t kPasswdCap = 16U << 20U;
    const auto passwd = read_small_file(AT_FDCWD, "/etc/passwd", kPasswdCap);
    if (!passwd) return Failure{Outcome::ConfigError, "cannot read /etc/passwd, where the helper user must be"};
    const auto entry = find_passwd_entry(*passwd, BANGER_HELPER_USER);
    if (!entry || entry->uid == 0 || entry->gid == 0) {
        return Failure{Outcome::ConfigError,
                       fmt::format("the system user '{}' that banger-signal works as {}; create it with "
                                   "systemd-sysusers (the package does), or useradd --system {}",
                                   BANGER_HELPER_USER, !entry ? "does not exist in /etc/passwd" : "must not be root",
                                   BANGER_HELPER_USER)};
    }
    // The uid must be the helper's alone: polkit takes questions about
    // anyone's process from it. /etc/shadow is root's to read (and the
    // instance's, with CAP_DAC_READ_SEARCH); a file that is not there holds
    // no password.
    const auto shadow = read_small_file(AT_FDCWD, "/etc/shadow", kPasswdCap);
    const int shadow_errno = shadow ? 0 : errno;
    if (!shadow && shadow_errno != ENOENT && !unchecked_password) {
        return Failure{Outcome::ConfigError, "cannot read /etc/shadow, to see that the helper user cannot log in"};
    }
    if (unchecked_password) *unchecked_password = !shadow && shadow_errno != ENOENT;
    struct stat home {};
    const bool home_exists = ::stat(entry->home.c_str(), &home) == 0;
    const auto password = shadow ? find_shadow_password(*shadow, BANGER_HELPER_USER) : std::nullopt;
    if (auto problem =
            login_problem(*entry, password ? std::optional<std::string_view>(*password) : std::nullopt, home_exists)) {
        return Failure{Outcome::ConfigError,
                       fmt::format("the system user '{}' that banger-signal works as must be no one's account, but "
                                   "{}: polkit would take questions about anyone's process from whoever logs in as it",
                                   BANGER_HELPER_USER, *problem)};
    }
    return HelperUser{entry->uid, entry->gid};
}

Status restrict_capabilities() {
    if (!build_capability_set(CAPNG_SELECT_BOTH, {kWorkingCaps, kSwitchingCaps})) {
        return Failure{Outcome::SystemError, "libcap-ng: cannot build the capability set"};
    }
    // The bounding set is emptied here rather than by capng_apply(), which
    // reads /proc/self/status three times around the same prctl() calls.
    // Without CAP_SETPCAP that fails; the sets and no_new_privs are applied
    // all the same, so that the refused call goes on with no more than them.
    const bool emptied = empty_bounding_set();
    const int bounding_errno = errno;
    if (int rc = capng_apply(CAPNG_SELECT_CAPS); rc != 0) {
        return Failure{Outcome::SystemError, fmt::format("libcap-ng: cannot drop capabilities (capng_apply: {})", rc)};
    }
    // No exec from here on may gain privileges (setuid, file caps).
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_NO_NEW_PRIVS");
    if (!emptied) return system_error("cannot empty the capability bounding set (PR_CAPBSET_DROP)", bounding_errno);
    return Done{};
}

Status become_helper_user(const HelperUser& user) {
    // Keep the permitted set across the uid change (the effective one goes).
    if (::prctl(PR_SET_KEEPCAPS, 1UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_KEEPCAPS");
    if (::setgroups(0, nullptr) != 0) return failed("setgroups");
    if (::setresgid(user.gid, user.gid, user.gid) != 0) return failed("setresgid");
    if (::setresuid(user.uid, user.uid, user.uid) != 0) return failed("setresuid");
    if (::prctl(PR_SET_KEEPCAPS, 0UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_KEEPCAPS");
    if (!build_capability_set(CAPNG_SELECT_CAPS, {kWorkingCaps})) {
        return Failure{Outcome::SystemError, "libcap-ng: cannot build the capability set"};
    }
    // The bounding set is empty already (step one), and this uid may not change it.
    if (int rc = capng_apply(CAPNG_SELECT_CAPS); rc != 0) {
        return Failure{Outcome::SystemError, fmt::format("libcap-ng: cannot set the working capabilities ({})", rc)};
    }
    // A change of uid makes the process dumpable again (per fs.suid_dumpable).
    if (::prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_DUMPABLE");
    return verify_working_threads(user, false);
}

}  // namespace banger

namespace banger {

Status give_up_reading() {
    if (!build_capability_set(CAPNG_SELECT_CAPS, {kSignallingCaps})) {
        return Failure{Outcome::SystemError, "libcap-ng: cannot build the capability set"};
    }
    if (int rc = capng_apply(CAPNG_SELECT_CAPS); rc != 0) {
        return Failure{Outcome::SystemError, fmt::format("libcap-ng: cannot give up reading ({})", rc)};
    }
    return Done{};
}

Status instance_holds_working_caps() {
    if (capng_get_caps_process() != 0) return Failure{Outcome::SystemError, "libcap-ng: cannot read the capabilities"};
    for (int cap : kWorkingCaps) {
        if (capng_have_capability(CAPNG_PERMITTED, static_cast<unsigned int>(cap)) == 0) {
            std::string name = capng_capability_to_name(static_cast<unsigned int>(cap));
            for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            return Failure{Outcome::ConfigError,
                           fmt::format("the socket door lacks CAP_{}: banger-signal@.service must say "
                                       "AmbientCapabilities=CAP_KILL CAP_SYS_PTRACE CAP_DAC_READ_SEARCH",
                                       name)};
        }
    }
    return Done{};
}

Status settle_instance(const HelperUser& user) {
    uid_t ruid = 0;
    uid_t euid = 0;
    uid_t suid = 0;
    gid_t rgid = 0;
    gid_t egid = 0;
    gid_t sgid = 0;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) return failed("getresuid");
    if (ruid != user.uid || euid != user.uid || suid != user.uid || rgid != user.gid || egid != user.gid ||
        sgid != user.gid) {
        return Failure{
            Outcome::ConfigError,
            fmt::format("the socket door runs as uid {} gid {}, not as {} ({}:{}): banger-signal@.service "
                        "must say User={} and Group={}",
                        euid, egid, BANGER_HELPER_USER, user.uid, user.gid, BANGER_HELPER_USER, BANGER_HELPER_USER)};
    }
    // The ambient set goes (nothing here execs, and nothing may inherit it),
    // and with the inheritable set every capability but the working ones.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0UL, 0UL, 0UL) != 0)
        return failed("PR_CAP_AMBIENT_CLEAR_ALL");
    if (!build_capability_set(CAPNG_SELECT_CAPS, {kWorkingCaps})) {
        return Failure{Outcome::SystemError, "libcap-ng: cannot build the capability set"};
    }
    if (int rc = capng_apply(CAPNG_SELECT_CAPS); rc != 0) {
        return Failure{Outcome::SystemError, fmt::format("libcap-ng: cannot set the working capabilities ({})", rc)};
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_NO_NEW_PRIVS");
    if (::prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) != 0) return failed("PR_SET_DUMPABLE");
    return verify_working_threads(user, false, true);
}

}  // namespace banger
