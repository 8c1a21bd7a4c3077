#include "sys/test_hooks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace banger {

namespace {
std::string& pause_spec() {
    static std::string spec;
    return spec;
}
}  // namespace

void capture_test_hooks() noexcept {
    const char* spec = std::getenv("BANGER_TEST_PAUSE");
    if (spec != nullptr) pause_spec() = spec;
}

void test_pause(std::string_view point) {
    if (pause_spec().empty()) capture_test_hooks();
    std::string_view s(pause_spec());
    if (s.empty()) return;
    std::size_t colon = s.find(':');
    if (colon == std::string_view::npos || s.substr(0, colon) != point) return;
    const std::string base(s.substr(colon + 1));

    const std::string message = "paused " + std::string(point) + "\n";
    int out = ::open((base + ".paused").c_str(), O_WRONLY | O_CLOEXEC);
    if (out >= 0) {
        (void)!::write(out, message.data(), message.size());
        ::close(out);
    }
    int in = ::open((base + ".resume").c_str(), O_RDONLY | O_CLOEXEC);
    if (in >= 0) {
        char c = 0;
        while (::read(in, &c, 1) == 1 && c != '\n') {}
        ::close(in);
    }
}

}  // namespace banger
