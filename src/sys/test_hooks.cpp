#include "sys/test_hooks.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "sys/deadline.hpp"

namespace banger {

namespace {

// The pause point and its FIFOs, opened while the helper is still root and
// may still open files for writing (sys/confine.hpp).
struct Pause {
    std::string point;
    int paused = -1;  // we write "paused POINT\n" here
    int resume = -1;  // and wait for a line here
    bool pidfd_subjects = false;
    bool no_peer_pidfd = false;
};

bool env_is(const char* name, std::string_view value) {
    const char* set = std::getenv(name);
    return set != nullptr && value == set;
}

Pause& pause() {
    static Pause p;
    return p;
}

}  // namespace

bool test_forces_pidfd_subjects() noexcept { return pause().pidfd_subjects; }
bool test_hides_peer_pidfd() noexcept { return pause().no_peer_pidfd; }

void capture_test_hooks() noexcept {
    if (env_is("BANGER_TEST_PIDFD_SUBJECTS", "always")) pause().pidfd_subjects = true;
    if (env_is("BANGER_TEST_PEER_PIDFD", "off")) pause().no_peer_pidfd = true;
    const char* spec = std::getenv("BANGER_TEST_PAUSE");
    if (spec == nullptr || pause().paused >= 0) return;
    const std::string_view s(spec);
    const std::size_t colon = s.find(':');
    if (colon == std::string_view::npos) return;
    const std::string base(s.substr(colon + 1));
    pause().point = std::string(s.substr(0, colon));
    // The test holds both FIFOs open for reading and writing: neither open blocks.
    pause().paused = ::open((base + ".paused").c_str(), O_WRONLY | O_CLOEXEC);
    pause().resume = ::open((base + ".resume").c_str(), O_RDONLY | O_CLOEXEC);
}

void test_pause(std::string_view point) {
    capture_test_hooks();  // a call that never ran as root (no-op once done)
    const Pause& p = pause();
    if (p.paused < 0 || p.point != point) return;
    const std::string message = "paused " + std::string(point) + "\n";
    hold_armed_deadline();  // the test holds the phase on purpose
    (void)!::write(p.paused, message.data(), message.size());
    char c = 0;
    while (p.resume >= 0 && ::read(p.resume, &c, 1) == 1 && c != '\n') {}
    restart_armed_deadline();
}

}  // namespace banger
