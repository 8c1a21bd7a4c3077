// Test-only pause points. They exist only in the banger-signal-testhooks
// binary (meson -Dtest_hooks=true), which is never installed; in the real
// binary test_pause() is an empty inline function and reads nothing.
#pragma once

#include <string_view>

namespace banger {

#if defined(BANGER_TEST_HOOKS) && BANGER_TEST_HOOKS
// If BANGER_TEST_PAUSE is "POINT:PATH" and POINT matches, writes
// "paused POINT\n" into the FIFO PATH.paused, then blocks until a line can be
// read from the FIFO PATH.resume. Lets a test act between two steps of the
// recipe (kill and reuse a pid, read our /proc/self/status).
void test_pause(std::string_view point);
// Reads BANGER_TEST_PAUSE (and the switches below) while the environment is
// still there.
void capture_test_hooks() noexcept;
// BANGER_TEST_PIDFD_SUBJECTS=always: every polkit check names its subject by
// pidfd, whatever polkitd's version (an older polkitd then reads pid and
// start time from the same message): the path Debian 13 takes, run here.
[[nodiscard]] bool test_forces_pidfd_subjects() noexcept;
// BANGER_TEST_PEER_PIDFD=off: the socket door pins its peer as on a kernel
// without SO_PEERPIDFD (before 6.5): the path Debian 12 takes, run here.
[[nodiscard]] bool test_hides_peer_pidfd() noexcept;
#else
inline void test_pause(std::string_view /*point*/) noexcept {}
inline void capture_test_hooks() noexcept {}
inline bool test_forces_pidfd_subjects() noexcept { return false; }
inline bool test_hides_peer_pidfd() noexcept { return false; }
#endif

}  // namespace banger
