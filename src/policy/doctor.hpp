// Pure helpers of --doctor: the exec.path from the installed polkit policy,
// and the report lines.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

// The annotation `key` of `action_id` in a polkit .policy file, or nullopt.
[[nodiscard]] std::optional<std::string> policy_annotation(std::string_view policy_xml, std::string_view action_id,
                                                           std::string_view key);

// Its org.freedesktop.policykit.exec.path annotation.
[[nodiscard]] std::optional<std::string> policy_exec_path(std::string_view policy_xml, std::string_view action_id);

enum class Level { Ok, Warn, Fail };

struct DoctorLine {
    Level level;
    std::string check;
    std::string detail;
    std::string fix;  // empty for OK
};

// What --doctor found out about the two doors, for this process.
struct DoorFacts {
    bool socket_answers = false;  // the socket door answered GetInfo as banger-signal
    std::string socket_problem;   // why not, when it did not
    bool pkexec_usable = false;   // /usr/bin/pkexec is there and setuid root
    bool no_new_privs = false;    // this process: the kernel ignores setuid bits for it
};

// Which door this user's calls take, and why (--door auto's choice): OK when
// one serves them, WARN when only pkexec does (the socket door is what a
// hardened daemon needs), FAIL when none can.
[[nodiscard]] DoctorLine door_line(const DoorFacts& facts, std::string_view socket_path);

// "OK    check: detail" / "FAIL  check: detail\n      fix: ...".
[[nodiscard]] std::string format_doctor_line(const DoctorLine& line);
[[nodiscard]] bool any_failed(const std::vector<DoctorLine>& lines) noexcept;

}  // namespace banger
