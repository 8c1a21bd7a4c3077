#include "policy/doctor.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace banger {

std::optional<std::string> policy_annotation(std::string_view xml, std::string_view action_id, std::string_view key) {
    const std::string open = fmt::format("<action id=\"{}\">", action_id);
    std::size_t start = xml.find(open);
    if (start == std::string_view::npos) return std::nullopt;
    std::size_t end = xml.find("</action>", start);
    std::string_view action = xml.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    const std::string annotate = fmt::format("<annotate key=\"{}\">", key);
    std::size_t at = action.find(annotate);
    if (at == std::string_view::npos) return std::nullopt;
    std::string_view rest = action.substr(at + annotate.size());
    std::size_t close = rest.find("</annotate>");
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view value = rest.substr(0, close);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\n' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == ' ' || value.back() == '\n' || value.back() == '\t'))
        value.remove_suffix(1);
    return std::string(value);
}

std::optional<std::string> policy_exec_path(std::string_view xml, std::string_view action_id) {
    return policy_annotation(xml, action_id, "org.freedesktop.policykit.exec.path");
}

DoctorLine door_line(const DoorFacts& facts, std::string_view socket_path) {
    const std::string enable = "systemctl enable --now banger-signal.socket";
    if (facts.socket_answers) {
        std::string why = fmt::format("calls take the socket door: {} answers", socket_path);
        if (facts.no_new_privs) why += "; this process has no_new_privs, so pkexec could not elevate it";
        return DoctorLine{Level::Ok, "door", std::move(why), ""};
    }
    if (facts.no_new_privs) {
        return DoctorLine{Level::Fail, "door",
                          fmt::format("no door: this process has no_new_privs, so pkexec cannot elevate it, and the "
                                      "socket door does not answer ({})",
                                      facts.socket_problem),
                          enable};
    }
    if (!facts.pkexec_usable) {
        return DoctorLine{
            Level::Fail, "door",
            fmt::format("no door: pkexec is unusable and the socket door does not answer ({})", facts.socket_problem),
            enable};
    }
    return DoctorLine{Level::Warn, "door",
                      fmt::format("calls take pkexec: the socket door does not answer ({}); a daemon with "
                                  "no_new_privs could not call at all",
                                  facts.socket_problem),
                      enable};
}

std::string format_doctor_line(const DoctorLine& line) {
    std::string_view tag = line.level == Level::Ok ? "OK  " : line.level == Level::Warn ? "WARN" : "FAIL";
    std::string out = fmt::format("{}  {}: {}", tag, line.check, line.detail);
    if (!line.fix.empty()) out += fmt::format("\n      fix: {}", line.fix);
    return out;
}

bool any_failed(const std::vector<DoctorLine>& lines) noexcept {
    return std::any_of(lines.begin(), lines.end(), [](const DoctorLine& l) { return l.level == Level::Fail; });
}

}  // namespace banger
