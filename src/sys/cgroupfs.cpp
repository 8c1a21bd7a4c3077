#include "sys/cgroupfs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>

#include "policy/cgroup.hpp"
#include "policy/path.hpp"
#include "sys/io.hpp"
#include "sys/unique_fd.hpp"

namespace banger {

std::vector<std::uint32_t> pids_with_exe_name(int proc_fd, const std::vector<std::uint32_t>& pids,
                                              std::string_view name) {
    std::vector<std::uint32_t> out;
    std::array<char, 4097> buf{};
    for (std::uint32_t pid : pids) {
        const std::string link = std::to_string(pid) + "/exe";
        ssize_t n = ::readlinkat(proc_fd, link.c_str(), buf.data(), buf.size() - 1);
        if (n <= 0) continue;  // kernel thread, zombie, or gone
        if (base_name(std::string_view(buf.data(), static_cast<std::size_t>(n))) == name) out.push_back(pid);
    }
    return out;
}

std::optional<std::vector<std::uint32_t>> cgroup_tree_pids(const std::string& dir) {
    constexpr std::size_t kMaxCgroups = 100000;  // bounds the walk; a miss only shortens the listing
    std::vector<std::uint32_t> pids;
    std::vector<UniqueFd> pending;
    UniqueFd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!root.valid()) return std::nullopt;
    pending.push_back(std::move(root));
    std::size_t visited = 0;
    while (!pending.empty() && visited++ < kMaxCgroups) {
        UniqueFd cg = std::move(pending.back());
        pending.pop_back();
        UniqueFd procs(::openat(cg.get(), "cgroup.procs", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (procs.valid()) {
            FileFact content = read_all(procs.get(), std::size_t{16} << 20, "cgroup.procs");
            if (content.state == FileState::Read) {
                for (std::uint32_t pid : parse_cgroup_procs(content.text)) pids.push_back(pid);
            }
        }
        UniqueDir listing = open_dir_at(cg.get(), ".");
        if (!listing) continue;
        while (const struct dirent* entry = next_entry(listing.get())) {
            if (entry->d_type != DT_DIR || entry->d_name[0] == '.') continue;
            UniqueFd child(::openat(cg.get(), entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
            if (child.valid()) pending.push_back(std::move(child));
        }
    }
    return pids;
}

}  // namespace banger
