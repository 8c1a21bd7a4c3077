// /proc/<pid>/stat: parse_proc_stat and refuse_by_stat.
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "policy/judge.hpp"
#include "policy/proc_stat.hpp"

using namespace banger;

namespace {

// The line the kernel would print (fs/proc/array.c), with a hostile comm.
std::string kernel_line(const ProcStat& stat) {
    std::string line = "4152 (a) b) c) ";
    line += stat.state;
    line += ' ' + std::to_string(stat.ppid) + " 4148 1186 0 -1 " + std::to_string(stat.flags);
    line += " 140 78 1 1 0 0 0 0 20 0 1 0 " + std::to_string(stat.start_time);
    line += " 2654208 401 18446744073709551615 0 0 0\n";
    return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = fuzz::as_text(data, size);
    auto r = parse_proc_stat(text);
    if (!r) {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::SystemError);
        return 0;
    }
    const ProcStat& stat = r.value();
    // Fields are counted from the last ')', whatever comm contains.
    const std::size_t close = text.rfind(')');
    FUZZ_REQUIRE(close != std::string_view::npos && close + 2 < text.size());
    FUZZ_REQUIRE(stat.state == text[close + 2]);
    FUZZ_REQUIRE(stat.state != ' ' && stat.state != '\n' && stat.state != ')');

    auto again = parse_proc_stat(kernel_line(stat));
    FUZZ_REQUIRE(again && again.value().state == stat.state && again.value().ppid == stat.ppid &&
                 again.value().flags == stat.flags && again.value().start_time == stat.start_time);

    // A zombie is gone, a kernel thread is protected, nothing else is refused here.
    auto refusal = refuse_by_stat(stat);
    if (stat.is_dead()) {
        FUZZ_REQUIRE(refusal && refusal->outcome == Outcome::NoSuchProcess);
    } else if (stat.is_kernel_thread()) {
        FUZZ_REQUIRE(refusal && refusal->outcome == Outcome::Protected);
    } else {
        FUZZ_REQUIRE(!refusal);
    }
    return 0;
}
