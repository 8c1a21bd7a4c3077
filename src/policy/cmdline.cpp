#include "policy/cmdline.hpp"

#include <optional>

namespace banger {

std::vector<std::string_view> split_cmdline(std::string_view bytes) {
    std::vector<std::string_view> args;
    while (!bytes.empty()) {
        std::size_t nul = bytes.find('\0');
        args.push_back(bytes.substr(0, nul));
        bytes.remove_prefix(nul == std::string_view::npos ? bytes.size() : nul + 1);
    }
    return args;
}

Result<std::string> find_api_sock(const std::vector<std::string_view>& args) {
    constexpr std::string_view kLong = "--api-sock";
    constexpr std::string_view kLongEq = "--api-sock=";
    constexpr std::string_view kShort = "-a";

    std::optional<std::string_view> found;
    int flags = 0;
    for (std::size_t i = 1; i < args.size(); ++i) {
        std::string_view arg = args[i];
        std::optional<std::string_view> value;
        if (arg == kLong || arg == kShort) {
            if (i + 1 >= args.size()) return Failure{Outcome::NotManaged, "api socket flag has no value"};
            value = args[++i];
        } else if (arg.starts_with(kLongEq)) {
            value = arg.substr(kLongEq.size());
        }
        if (value) {
            ++flags;
            found = value;
        }
    }
    if (flags == 0) return Failure{Outcome::NotManaged, "command line has no --api-sock"};
    // Two flags: which one would Firecracker use? Do not guess.
    if (flags > 1) return Failure{Outcome::NotManaged, "command line has more than one api socket flag"};
    return std::string(*found);
}

}  // namespace banger
