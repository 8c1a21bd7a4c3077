#include "sys/proc_facts.hpp"

#include "policy/proc_status.hpp"

namespace banger {

TargetFacts gather_facts(const PinnedProcess& pinned) {
    TargetFacts facts;
    facts.stat = pinned.read_file("stat", kStatCap);
    facts.exe = pinned.read_link("exe");
    facts.cgroup = pinned.read_file("cgroup", kCgroupCap);
    return facts;
}

FileFact read_command_line(const PinnedProcess& pinned) { return pinned.read_file("cmdline", kCmdlineCap); }

bool owned_by(const PinnedProcess& pinned, uid_t uid) {
    const FileFact status = pinned.read_file("status", 16384);
    if (status.state != FileState::Read) return false;
    auto creds = parse_status_credentials(status.text);
    return creds && creds->uids[0] == uid && creds->uids[1] == uid && creds->uids[2] == uid;
}

}  // namespace banger
