#include "policy/cgroup.hpp"

#include <optional>

#include <fmt/format.h>

#include "policy/path.hpp"
#include "policy/pid.hpp"
#include "policy/text.hpp"

namespace banger {

namespace {

// cppcheck does not see members read through std::optional<CgroupLine>
// (select_cgroup_path reads all three), hence the suppressions.
struct CgroupLine {
    // cppcheck-suppress unusedStructMember
    std::string_view hierarchy;
    // cppcheck-suppress unusedStructMember
    std::string_view controllers;
    // cppcheck-suppress unusedStructMember
    std::string_view path;
};

// "hierarchy-ID:controller-list:cgroup-path"; the path may contain ':'.
std::optional<CgroupLine> split_line(std::string_view line) noexcept {
    std::size_t first = line.find(':');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    return CgroupLine{line.substr(0, first), line.substr(first + 1, second - first - 1), line.substr(second + 1)};
}

Failure refuse(std::string reason) { return Failure{Outcome::NotManaged, std::move(reason)}; }

}  // namespace

Result<std::string> select_cgroup_path(std::string_view content) {
    std::optional<std::string_view> unified;
    std::optional<std::string_view> named_systemd;
    bool malformed = false;

    while (!content.empty()) {
        std::string_view line = next_line(content);
        if (line.empty()) continue;
        auto parsed = split_line(line);
        if (!parsed) {
            malformed = true;
            continue;
        }
        if (parsed->hierarchy == "0" && parsed->controllers.empty()) {
            if (unified) return refuse("cgroup file has two cgroup v2 lines");
            unified = parsed->path;
        } else if (parsed->controllers == "name=systemd") {
            if (named_systemd) return refuse("cgroup file has two name=systemd lines");
            named_systemd = parsed->path;
        }
    }
    if (malformed) return refuse("cgroup file is malformed");

    std::optional<std::string_view> chosen = unified;
    if ((!chosen || *chosen == "/") && named_systemd) chosen = named_systemd;  // hybrid host
    if (!chosen) return refuse("process has no cgroup v2 or name=systemd cgroup");

    std::string_view path = *chosen;
    // The kernel shows cgroups outside the reader's cgroup namespace as "/..".
    if (path == "/.." || path.starts_with("/../")) {
        return refuse("process is in a cgroup outside our cgroup namespace");
    }
    // A removed cgroup keeps its old name plus " (deleted)": it names nothing.
    if (has_deleted_marker(path)) {
        return refuse(fmt::format("process is in a removed cgroup ({})", path.substr(0, 256)));
    }
    if (auto problem = path_problem(path)) {
        return refuse(fmt::format("cgroup path {}", *problem));
    }
    return std::string(path);
}

std::vector<std::uint32_t> parse_cgroup_procs(std::string_view content) {
    std::vector<std::uint32_t> pids;
    while (!content.empty()) {
        auto pid = parse_pid_number(next_line(content), kPidMaxLimit);
        if (pid) pids.push_back(pid.value());
    }
    return pids;
}

bool is_within_cgroup(std::string_view path, std::string_view service) noexcept {
    // The service cgroup is never "/" (config validation refuses it), so the
    // root cgroup can never accept everything.
    if (service == "/") return false;
    return is_within_or_equal(path, service);
}

}  // namespace banger
