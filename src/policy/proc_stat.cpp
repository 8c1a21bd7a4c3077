#include "policy/proc_stat.hpp"

#include <charconv>
#include <vector>

namespace banger {

namespace {

template <typename T>
bool to_int(std::string_view s, T& out) noexcept {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc{} && end == s.data() + s.size();
}

}  // namespace

Result<ProcStat> parse_proc_stat(std::string_view content) {
    const Failure malformed{Outcome::SystemError, "cannot parse /proc/<pid>/stat"};
    std::size_t close = content.rfind(')');
    if (close == std::string_view::npos || close + 2 > content.size()) return malformed;
    std::string_view rest = content.substr(close + 2);  // skip ") "

    // Fields after comm, numbered as in proc(5): 3 = state, 4 = ppid,
    // 9 = flags, 22 = starttime.
    std::vector<std::string_view> fields;
    while (!rest.empty() && fields.size() < 20) {
        std::size_t sp = rest.find_first_of(" \n");
        fields.push_back(rest.substr(0, sp));
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
    }
    if (fields.size() < 20 || fields[0].size() != 1) return malformed;

    ProcStat stat;
    stat.state = fields[0][0];
    if (!to_int(fields[1], stat.ppid) || !to_int(fields[6], stat.flags) || !to_int(fields[19], stat.start_time)) {
        return malformed;
    }
    return stat;
}

}  // namespace banger
