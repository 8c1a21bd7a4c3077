// /proc/<pid>/cmdline: the arguments, and Firecracker's api socket flag.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/result.hpp"

namespace banger {

// NUL-separated arguments as the kernel shows them. A final chunk without a
// terminating NUL (a process that rewrote its own argv) still counts.
[[nodiscard]] std::vector<std::string_view> split_cmdline(std::string_view bytes);

// The api socket path of a Firecracker command line. Exactly one flag among
// args[1..] in the forms "--api-sock P", "--api-sock=P", "-a P". None, two or
// more, or a flag without a value: NotManaged. The value is returned as
// written; whether it is acceptable is judged separately.
[[nodiscard]] Result<std::string> find_api_sock(const std::vector<std::string_view>& args);

}  // namespace banger
