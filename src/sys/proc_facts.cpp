#include "sys/proc_facts.hpp"

namespace banger {

TargetFacts gather_facts(const PinnedProcess& pinned) {
    TargetFacts facts;
    facts.stat = pinned.read_file("stat", kStatCap);
    facts.exe = pinned.read_link("exe");
    facts.cgroup = pinned.read_file("cgroup", kCgroupCap);
    facts.cmdline = pinned.read_file("cmdline", kCmdlineCap);
    return facts;
}

}  // namespace banger
