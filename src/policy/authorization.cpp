#include "policy/authorization.hpp"

#include <fmt/format.h>

#include "build_config.hpp"

namespace banger {

std::string_view polkit_action_for(const Signal& signal) noexcept {
    return signal.is_kill() ? kActionKill : kActionSend;
}

std::vector<std::pair<std::string, std::string>> polkit_details(int pid, const Signal& signal, Match match,
                                                                std::string_view cgroup, std::string_view exe) {
    return {
        {"pid", std::to_string(pid)},
        {"signal", std::string(signal.name())},
        {"match", std::string(match_name(match))},
        {"cgroup", std::string(cgroup)},
        {"exe", std::string(exe)},
    };
}

ElevatedExit map_pkexec_exit(int status_code) {
    switch (status_code) {
        case 126:
            return {exit_code(Outcome::NotAuthorized), "the authentication request was dismissed"};
        case 127:
            return {exit_code(Outcome::NotAuthorized),
                    fmt::format("polkit refused {} for this user (or pkexec failed); members of "
                                "group '{}' are allowed",
                                kActionRun, BANGER_PRIVILEGED_GROUP)};
        default: return {status_code, ""};
    }
}

}  // namespace banger
