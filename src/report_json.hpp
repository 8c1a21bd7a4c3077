// The JSON objects a caller is shown, one per target and one per listed
// process: printed as JSON Lines by --json, and carried in the socket
// door's replies (door/varlink.cpp), so that both doors answer with the
// very same objects. Apart from report.hpp to keep nlohmann out of the
// headers most of the program includes.
#pragma once

#include <nlohmann/json.hpp>

#include "report.hpp"

namespace banger {

// {"pid", "signal", "code", "outcome", "match", "reason", "dry_run",
//  "cgroup", "exe", "api_sock", "escalated", ["elevation",] "door"}
[[nodiscard]] nlohmann::ordered_json target_object(const CallView& view, const TargetView& t);
// {"pid", "match", "exe", "cgroup", "api_sock", "start_time", "door"}
[[nodiscard]] nlohmann::ordered_json listed_object(const CallView& view, const ListedProcess& t);

// One line of JSON, whatever bytes its strings hold (invalid UTF-8 in a
// path becomes U+FFFD rather than aborting the dump).
[[nodiscard]] std::string json_line(const nlohmann::ordered_json& object);

}  // namespace banger
