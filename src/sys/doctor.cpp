#include "sys/doctor.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "build_config.hpp"
#include "door/varlink.hpp"
#include "policy/authorization.hpp"
#include "policy/service.hpp"
#include "sys/config_file.hpp"
#include "sys/connection.hpp"
#include "sys/pidfd.hpp"
#include "sys/polkit.hpp"
#include "sys/privileges.hpp"
#include "sys/proc_root.hpp"
#include "sys/systemd.hpp"

namespace banger {

namespace {

std::optional<std::string> slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

DoctorLine ok(std::string check, std::string detail) { return {Level::Ok, std::move(check), std::move(detail), ""}; }
DoctorLine warn(std::string check, std::string detail, std::string fix) {
    return {Level::Warn, std::move(check), std::move(detail), std::move(fix)};
}
DoctorLine fail(std::string check, std::string detail, std::string fix) {
    return {Level::Fail, std::move(check), std::move(detail), std::move(fix)};
}

DoctorLine check_binary() {
    const std::string path = BANGER_INSTALLED_PATH;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        return fail("binary", fmt::format("{} is missing", path), "install banger-signal (meson install)");
    }
    if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return fail("binary", fmt::format("{} is not owned by root or is writable by others", path),
                    fmt::format("chown root:root {0} && chmod 0755 {0}", path));
    }
    // polkit decides per call; a setuid bit would bypass it.
    if ((st.st_mode & (S_ISUID | S_ISGID)) != 0) {
        return fail("binary", fmt::format("{} has a setuid/setgid bit", path), fmt::format("chmod ug-s {}", path));
    }
    return ok("binary", fmt::format("{} installed, owned by root", path));
}

// One of two doors: unusable, it fails the check only when the socket door
// does not serve either.
DoctorLine check_pkexec(bool& usable_out, bool socket_answers) {
    struct stat st {};
    const auto unusable = [socket_answers](std::string detail, std::string fix) {
        if (socket_answers) return warn("pkexec", detail + "; the socket door serves calls", std::move(fix));
        return fail("pkexec", std::move(detail), std::move(fix));
    };
    usable_out = false;
    if (::stat("/usr/bin/pkexec", &st) != 0) return unusable("/usr/bin/pkexec is missing", "apt install pkexec");
    if (st.st_uid != 0 || (st.st_mode & S_ISUID) == 0) {
        return unusable("/usr/bin/pkexec is not setuid root", "reinstall pkexec (apt install --reinstall pkexec)");
    }
    usable_out = true;
    return ok("pkexec", "/usr/bin/pkexec present and setuid root");
}

// The socket door: root's socket at its path, and an instance that answers
// GetInfo as this very version (each connection starts one).
DoctorLine check_socket(std::string& problem_out) {
    const std::string path = BANGER_SOCKET_PATH;
    const std::string enable = "systemctl enable --now banger-signal.socket";
    struct stat st {};
    const auto broken = [&](std::string detail, std::string fix, bool failing) {
        problem_out = detail;
        return failing ? fail("socket door", std::move(detail), std::move(fix))
                       : warn("socket door", std::move(detail), std::move(fix));
    };
    if (::lstat(path.c_str(), &st) != 0) return broken(fmt::format("{} does not exist", path), enable, false);
    if (!S_ISSOCK(st.st_mode) || st.st_uid != 0) {
        return broken(fmt::format("{} is not a socket of root's", path), "reinstall banger-signal", true);
    }
    int error = 0;
    auto conn = Connection::connect_to(path.c_str(), error);
    if (!conn) return broken(conn.failure().reason, enable, error != ECONNREFUSED && error != ENOENT);
    Connection connected = std::move(conn).value();
    auto reply =
        connected.write_message(varlink::info_call())
            ? connected.read_message(varlink::kMaxCall, std::chrono::steady_clock::now() + std::chrono::seconds{30})
            : Result<std::optional<std::string>>(Failure{Outcome::SystemError, "cannot send"});
    if (!reply || !reply.value()) {
        return broken(fmt::format("{} accepts, but no instance answers ({})", path,
                                  reply ? "it closed the connection" : reply.failure().reason),
                      "journalctl -u 'banger-signal@*'", true);
    }
    auto version = varlink::info_version(*reply.value());
    if (!version) return broken(version.failure().reason, "reinstall banger-signal", true);
    if (version.value() != BANGER_SIGNAL_VERSION) {
        return broken(
            fmt::format("{} answers as banger-signal {}, this is {}", path, version.value(), BANGER_SIGNAL_VERSION),
            "reinstall banger-signal, then systemctl restart banger-signal.socket", true);
    }
    return ok("socket door", fmt::format("{} answers: banger-signal {}, one instance per call as {}", path,
                                         version.value(), BANGER_HELPER_USER));
}

DoctorLine check_policy() {
    const std::string path = std::string(BANGER_POLKIT_ACTIONS_DIR) + "/org.banger.signal.policy";
    auto xml = slurp(path);
    if (!xml) return fail("polkit policy", fmt::format("{} is missing", path), "install banger-signal (meson install)");
    auto exec_path = policy_exec_path(*xml, kActionRun);
    if (!exec_path || *exec_path != BANGER_INSTALLED_PATH) {
        return fail("polkit policy",
                    fmt::format("{} points exec.path at {} instead of {}", path, exec_path.value_or("nothing"),
                                BANGER_INSTALLED_PATH),
                    "reinstall from the same build (the policy and the binary must come from one meson install)");
    }
    // The helper asks for send and kill as its own user, and the socket
    // door's instance for the gate: polkitd allows that only to the actions'
    // owner.
    const std::string owner = std::string("unix-user:") + BANGER_HELPER_USER;
    for (std::string_view action : {kActionRun, kActionSend, kActionKill}) {
        if (xml->find(fmt::format("<action id=\"{}\">", action)) == std::string::npos) {
            return fail("polkit policy", fmt::format("{} lacks action {}", path, action), "reinstall banger-signal");
        }
        if (policy_annotation(*xml, action, "org.freedesktop.policykit.owner") != owner) {
            return fail("polkit policy", fmt::format("{} does not make {} the owner of {}", path, owner, action),
                        "reinstall from the same build (the policy and the binary must come from one install)");
        }
    }
    return ok("polkit policy", fmt::format("{} installed, exec.path {}", path, *exec_path));
}

// polkit's rules directories are readable by polkitd only (0700) on Debian,
// so an unprivileged admin may not see the file: then polkit's answer for
// the gate is the evidence.
DoctorLine check_rules(bool member, std::optional<PolkitAnswer> answer) {
    const std::string path = std::string(BANGER_POLKIT_RULES_DIR) + "/49-banger-signal.rules";
    if (::access(path.c_str(), F_OK) == 0) return ok("polkit rules", fmt::format("{} installed", path));
    if (errno != EACCES) {
        return fail("polkit rules", fmt::format("{} is missing", path), "install banger-signal (meson install)");
    }
    if (answer == PolkitAnswer::Yes) {
        return ok("polkit rules",
                  fmt::format("{} is not readable by you, but polkit's yes shows the rule works", path));
    }
    if (member) {
        return fail("polkit rules",
                    fmt::format("{} is not readable by you, and polkit does not say yes to a member of '{}': the "
                                "rule is missing or broken",
                                path, BANGER_PRIVILEGED_GROUP),
                    "as root: check that file, or reinstall banger-signal");
    }
    return warn("polkit rules", fmt::format("{} is not readable by you", path),
                fmt::format("run --doctor as root, or as a member of '{}', to check it", BANGER_PRIVILEGED_GROUP));
}

DoctorLine check_group(bool& member_out) {
    const char* name = BANGER_PRIVILEGED_GROUP;
    const struct group* gr = ::getgrnam(name);
    if (gr == nullptr) {
        return fail("group", fmt::format("group '{}' does not exist", name),
                    fmt::format("systemd-sysusers, or: groupadd --system {}", name));
    }
    const gid_t gid = gr->gr_gid;
    bool member = ::getgid() == gid || ::getegid() == gid;
    int n = ::getgroups(0, nullptr);
    if (n > 0) {
        std::vector<gid_t> groups(static_cast<std::size_t>(n));
        n = ::getgroups(n, groups.data());
        for (int i = 0; i < n; ++i) member = member || groups[static_cast<std::size_t>(i)] == gid;
    }
    member_out = member;
    if (!member) {
        return warn("group", fmt::format("group '{}' exists; you (uid {}) are not in it", name, ::getuid()),
                    fmt::format("usermod -aG {} USER (then log in again); bangerd's user must be a member", name));
    }
    return ok("group", fmt::format("group '{}' exists and you are a member", name));
}

DoctorLine check_authorization(std::optional<PolkitAnswer>& answer_out) {
    // The gate, as pkexec asks it but without details: only root may pass those.
    auto answer = ask_polkit(PolkitQuery{::getpid(), ::getuid(), 0, -1, std::string(kActionRun), {}});
    if (!answer) return fail("authorization", answer.failure().reason, "start polkitd and install the policy");
    answer_out = answer.value();
    switch (answer.value()) {
        case PolkitAnswer::Yes:
            return ok("authorization", fmt::format("polkit allows {} for you without a prompt", kActionRun));
        case PolkitAnswer::Challenge:
            return warn(
                "authorization", fmt::format("polkit allows {} for you only after authentication", kActionRun),
                fmt::format("fine for an admin at a terminal; for bangerd, join group '{}'", BANGER_PRIVILEGED_GROUP));
        case PolkitAnswer::No: break;
    }
    return fail("authorization", fmt::format("polkit does not allow {} for you", kActionRun),
                fmt::format("join group '{}', or check the rules in /etc/polkit-1/rules.d", BANGER_PRIVILEGED_GROUP));
}

DoctorLine check_config(Config& config_out) {
    const std::string path = BANGER_CONFIG_PATH;
    bool present = ::access(path.c_str(), F_OK) == 0;
    auto config = load_config_file(path, false);
    if (!config) {
        return fail("config", config.failure().reason,
                    fmt::format("chown root:root {0} && chmod 0644 {0}, and use absolute normalized paths", path));
    }
    config_out = config.value();
    if (!present) {
        return ok("config", fmt::format("{} not present; defaults: runtime_dir={} service_cgroup={}", path,
                                        config_out.runtime_dir, config_out.service_cgroup));
    }
    return ok("config", fmt::format("{} owned by root, not writable by others; runtime_dir={} service_cgroup={}", path,
                                    config_out.runtime_dir, config_out.service_cgroup));
}

std::vector<DoctorLine> check_cgroups(const Config& config) {
    std::vector<DoctorLine> lines;
    auto mountinfo = slurp("/proc/self/mountinfo");
    CgroupMounts mounts = detect_cgroup_mounts(mountinfo.value_or(""));
    switch (mounts.layout) {
        case CgroupLayout::Unified:
        case CgroupLayout::Hybrid:
            lines.push_back(
                ok("cgroup layout", fmt::format("{}; cgroup2 at {}", layout_name(mounts.layout), mounts.unified)));
            break;
        case CgroupLayout::Legacy:
            if (mounts.named_systemd.empty()) {
                lines.push_back(fail("cgroup layout", "cgroup v1 without a name=systemd hierarchy",
                                     "boot with systemd.unified_cgroup_hierarchy=1"));
                return lines;
            }
            lines.push_back(warn("cgroup layout", "cgroup v1 only (name=systemd used)", "prefer cgroup v2"));
            break;
        case CgroupLayout::None:
            lines.push_back(fail("cgroup layout", "no cgroup filesystem mounted", "mount cgroup2 on /sys/fs/cgroup"));
            return lines;
    }
    struct stat st {};
    const std::string in_unified = mounts.unified + config.service_cgroup;
    const std::string in_systemd = mounts.named_systemd + config.service_cgroup;
    if ((!mounts.unified.empty() && ::stat(in_unified.c_str(), &st) == 0) ||
        (!mounts.named_systemd.empty() && ::stat(in_systemd.c_str(), &st) == 0)) {
        lines.push_back(ok("service cgroup", fmt::format("{} exists", config.service_cgroup)));
    } else {
        lines.push_back(warn("service cgroup", fmt::format("{} does not exist (yet)", config.service_cgroup),
                             "start bangerd-root.service, or fix service_cgroup in the config"));
    }
    return lines;
}

DoctorLine check_helper_user() {
    bool unchecked_password = false;
    auto user = find_helper_user(&unchecked_password);
    if (!user) {
        return fail("helper user", user.failure().reason,
                    fmt::format("systemd-sysusers (the package runs it on install); the account must be locked, with "
                                "shell /usr/sbin/nologin and home /: usermod -L -s /usr/sbin/nologin -d / {}",
                                BANGER_HELPER_USER));
    }
    return ok("helper user",
              fmt::format("system user '{}' (uid {}) exists, no one can log in as it{}; "
                          "banger-signal works as it",
                          BANGER_HELPER_USER, user.value().uid,
                          unchecked_password ? " (its password unchecked: only root reads /etc/shadow)" : ""));
}

// The service's own processes are refused only where systemd can name them.
DoctorLine check_service_unit(const Config& config) {
    auto unit = service_unit(config.service_cgroup);
    if (!unit) {
        return warn("service unit", fmt::format("service_cgroup {} names no .service unit", config.service_cgroup),
                    "point service_cgroup at bangerd-root.service's cgroup");
    }
    if (!systemd_runs()) {
        return warn(
            "service unit",
            fmt::format("systemd is not the init system: the own processes of {} cannot be told from its VMs", *unit),
            "run bangerd-root.service under systemd");
    }
    auto own = ask_service_processes(*unit);
    if (!own) return warn("service unit", own.failure().reason, "check that systemd answers on the system bus");
    if (own.value().main_pid == 0) return ok("service unit", fmt::format("{} is known to systemd; not running", *unit));
    return ok("service unit", fmt::format("systemd manages {} (main process {}), which is never a target", *unit,
                                          own.value().main_pid));
}

DoctorLine check_pidfd() {
    if (auto supported = check_pidfd_support(); !supported) {
        return fail("pidfd", supported.failure().reason, "run Linux 5.3 or newer");
    }
    return ok("pidfd", "pidfd_open works");
}

DoctorLine check_namespace() {
    auto proc = open_proc_root();
    if (!proc) return fail("cgroup namespace", proc.failure().reason, "mount procfs on /proc");
    if (!same_cgroup_namespace_as_init(proc.value().get())) {
        return fail("cgroup namespace", "this process is not in the host's cgroup namespace",
                    "run banger-signal on the host, not inside a container with its own cgroup namespace");
    }
    return ok("cgroup namespace", "same as the host's");
}

}  // namespace

std::vector<DoctorLine> run_doctor() {
    std::vector<DoctorLine> lines;
    lines.push_back(check_binary());
    DoorFacts doors;
    DoctorLine socket = check_socket(doors.socket_problem);
    doors.socket_answers = socket.level == Level::Ok;
    lines.push_back(check_pkexec(doors.pkexec_usable, doors.socket_answers));
    lines.push_back(std::move(socket));
    doors.no_new_privs = ::prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) == 1;
    lines.push_back(door_line(doors, BANGER_SOCKET_PATH));
    lines.push_back(check_policy());
    bool member = false;
    DoctorLine group = check_group(member);
    std::optional<PolkitAnswer> answer;
    DoctorLine authorization = check_authorization(answer);
    lines.push_back(check_rules(member, answer));
    lines.push_back(std::move(group));
    lines.push_back(std::move(authorization));
    Config config;
    lines.push_back(check_config(config));
    for (auto& line : check_cgroups(config)) lines.push_back(std::move(line));
    lines.push_back(check_service_unit(config));
    lines.push_back(check_helper_user());
    lines.push_back(check_pidfd());
    lines.push_back(check_namespace());
    return lines;
}

}  // namespace banger
