#include "policy/path.hpp"

namespace banger {

std::optional<std::string_view> path_problem(std::string_view path) noexcept {
    if (path.empty()) return "is empty";
    if (path.find('\0') != std::string_view::npos) return "contains a NUL byte";
    if (path.front() != '/') return "is not absolute";
    if (path == "/") return std::nullopt;
    if (path.back() == '/') return "ends with '/'";
    std::string_view rest = path.substr(1);
    while (true) {
        std::size_t slash = rest.find('/');
        std::string_view component = rest.substr(0, slash);
        if (component.empty()) return "contains '//'";
        if (component == "." || component == "..") return "contains a '.' or '..' component";
        if (slash == std::string_view::npos) break;
        rest.remove_prefix(slash + 1);
    }
    return std::nullopt;
}

bool is_strictly_within(std::string_view path, std::string_view dir) noexcept {
    if (path_problem(path) || path_problem(dir)) return false;
    if (dir == "/") return path.size() > 1;
    // Component match: "/run/banger/x" is below "/run/banger", "/run/banger-evil/x" is not.
    return path.size() > dir.size() + 1 && path.starts_with(dir) && path[dir.size()] == '/';
}

bool is_within_or_equal(std::string_view path, std::string_view dir) noexcept {
    if (path_problem(path) || path_problem(dir)) return false;
    return path == dir || is_strictly_within(path, dir);
}

bool has_deleted_marker(std::string_view name) noexcept { return name.ends_with(" (deleted)"); }

std::string_view base_name(std::string_view path) noexcept {
    std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace banger
