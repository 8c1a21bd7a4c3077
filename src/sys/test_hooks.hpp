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
// Reads BANGER_TEST_PAUSE while the environment is still there.
void capture_test_hooks() noexcept;
#else
inline void test_pause(std::string_view /*point*/) noexcept {}
inline void capture_test_hooks() noexcept {}
#endif

}  // namespace banger
