// What the fine-grained polkit check asks, and how pkexec's answers read.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/judge.hpp"
#include "policy/result.hpp"
#include "policy/signal_name.hpp"

namespace banger {

inline constexpr std::string_view kActionRun = "org.banger.signal.run";
inline constexpr std::string_view kActionSend = "org.banger.signal.send";
inline constexpr std::string_view kActionKill = "org.banger.signal.kill";

// KILL has its own action so that admins can deny it separately.
[[nodiscard]] std::string_view polkit_action_for(const Signal& signal) noexcept;

// The details polkit rules can see: pid, signal, match, cgroup, exe.
[[nodiscard]] std::vector<std::pair<std::string, std::string>> polkit_details(int pid, const Signal& signal, Match match,
                                                                              std::string_view cgroup,
                                                                              std::string_view exe);

// pkexec's own exit statuses: 126 (the user dismissed the dialog) and 127
// (not authorized, or pkexec failed) become NotAuthorized; anything else is
// banger-signal's own code and passes through unchanged.
struct ElevatedExit {
    int code;
    std::string message;  // empty when passing through
};
[[nodiscard]] ElevatedExit map_pkexec_exit(int status_code);

}  // namespace banger
