// /proc/<pid>/cgroup: select_cgroup_path, is_within_cgroup and judge_cgroup.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "policy/cgroup.hpp"
#include "policy/judge.hpp"
#include "policy/path.hpp"

using namespace banger;

namespace {

constexpr std::string_view kService = "/system.slice/bangerd-root.service";

// Component match, stated directly: the only way to be within `service`.
bool component_within(std::string_view path, std::string_view service) {
    return path == service || fuzz::starts_with(path, std::string(service) + "/");
}

void check_within(std::string_view path, std::string_view service) {
    const bool within = is_within_cgroup(path, service);
    FUZZ_REQUIRE(!within || component_within(path, service));
    FUZZ_REQUIRE(!within || service != "/");  // the root cgroup never accepts everything
    // And the converse, for the normalized paths the flow compares.
    if (!path_problem(path) && !path_problem(service) && service != "/") {
        FUZZ_REQUIRE(within == component_within(path, service));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view file = fuzz::as_text(data, size);

    auto r = select_cgroup_path(file);
    std::vector<std::string> services{std::string(kService)};
    if (r) {
        const std::string& path = r.value();
        FUZZ_REQUIRE(fuzz::starts_with(path, "/"));
        FUZZ_REQUIRE(path != "/.." && !fuzz::starts_with(path, "/../"));  // outside our cgroup namespace
        FUZZ_REQUIRE(!fuzz::ends_with(path, " (deleted)"));               // a removed cgroup
        FUZZ_REQUIRE(!path_problem(path));
        FUZZ_REQUIRE(path.find('\n') == std::string::npos);
        FUZZ_REQUIRE(file.find(path) != std::string_view::npos);  // taken from the file, not made up

        // The path against itself, its ancestors and a sibling with the same prefix.
        services.push_back(path);
        for (std::size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
            services.push_back(path.substr(0, slash));
        }
        services.push_back(path + "-x");
        services.emplace_back("/");
        FUZZ_REQUIRE(path == "/" || is_within_cgroup(path, path));
    } else {
        FUZZ_REQUIRE(r.failure().outcome == Outcome::NotManaged);
    }

    for (const std::string& service : services) {
        if (r) check_within(r.value(), service);
        // judge_cgroup is exactly select + component match, and only in our cgroup namespace.
        CgroupVerdict verdict = judge_cgroup(file, service, true);
        FUZZ_REQUIRE(verdict.accepted == (r.ok() && is_within_cgroup(r.value(), service)));
        FUZZ_REQUIRE(verdict.accepted || !verdict.reason.empty());
        FUZZ_REQUIRE(!judge_cgroup(file, service, false).accepted);
    }

    // Arbitrary pairs: "path\0service".
    if (std::size_t nul = file.find('\0'); nul != std::string_view::npos) {
        check_within(file.substr(0, nul), file.substr(nul + 1));
    }
    return 0;
}
