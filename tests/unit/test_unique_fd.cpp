#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include "sys/unique_fd.hpp"

using banger::UniqueFd;

namespace {
bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }
}  // namespace

TEST_CASE("UniqueFd closes, moves and releases") {
    int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(raw >= 0);
    {
        UniqueFd a(raw);
        CHECK(a.valid());
        UniqueFd b(std::move(a));
        CHECK_FALSE(a.valid());  // NOLINT(bugprone-use-after-move): testing the moved-from state
        CHECK(b.get() == raw);
        CHECK(is_open(raw));
    }
    CHECK_FALSE(is_open(raw));

    int raw2 = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    UniqueFd c(raw2);
    int released = c.release();
    CHECK(released == raw2);
    CHECK_FALSE(c.valid());
    CHECK(is_open(raw2));
    c.reset(released);
    c.reset();
    CHECK_FALSE(is_open(raw2));
}
