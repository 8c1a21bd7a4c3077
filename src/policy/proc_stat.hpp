// /proc/<pid>/stat: the few fields the decision needs.
#pragma once

#include <cstdint>
#include <string_view>

#include "policy/result.hpp"

namespace banger {

inline constexpr std::uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD, include/linux/sched.h

struct ProcStat {
    char state = '?';  // R S D Z X ...
    std::int64_t ppid = 0;
    std::uint32_t flags = 0;       // PF_* bits
    std::uint64_t start_time = 0;  // clock ticks after boot
    [[nodiscard]] bool is_kernel_thread() const noexcept { return (flags & kPfKthread) != 0; }
    [[nodiscard]] bool is_dead() const noexcept { return state == 'Z' || state == 'X' || state == 'x'; }
};

// "pid (comm) state ppid ... flags ... starttime ...". comm may contain
// spaces and ')', so fields are counted from the LAST ')'. Malformed: SystemError.
[[nodiscard]] Result<ProcStat> parse_proc_stat(std::string_view content);

}  // namespace banger
