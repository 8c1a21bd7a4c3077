#include <doctest/doctest.h>

#include <sys/stat.h>

#include "policy/location.hpp"

using namespace banger;

namespace {
constexpr mode_t kDir = S_IFDIR;
constexpr mode_t kFile = S_IFREG;
}  // namespace

TEST_CASE("location: root-owned and not writable by others") {
    std::vector<PathEntry> good{{"/usr/local/bin/banger-signal", 0, kFile | 0755},
                                {"/usr/local/bin", 0, kDir | 0755},
                                {"/usr/local", 0, kDir | 0755},
                                {"/usr", 0, kDir | 0755},
                                {"/", 0, kDir | 0755}};
    CHECK_FALSE(unsafe_location(good).has_value());

    auto bad = good;
    bad[0].mode = kFile | 0775;
    CHECK(unsafe_location(bad).value().find("banger-signal is writable") != std::string::npos);
    bad = good;
    bad[0].owner = 1000;
    CHECK(unsafe_location(bad).value().find("owned by uid 1000") != std::string::npos);
    bad = good;
    bad[2].mode = kDir | 0777;  // /usr/local writable by anyone: the bin dir could be swapped
    CHECK(unsafe_location(bad).value().find("/usr/local is writable") != std::string::npos);
    bad = good;
    bad[3].owner = 1000;
    CHECK(unsafe_location(bad).has_value());
    CHECK(unsafe_location({}).has_value());
}

TEST_CASE("location: sticky directories protect root's entries") {
    std::vector<PathEntry> in_tmp{{"/tmp/ci/build/banger-signal", 0, kFile | 0755},
                                  {"/tmp/ci/build", 0, kDir | 0755},
                                  {"/tmp/ci", 0, kDir | 0755},
                                  {"/tmp", 0, kDir | S_ISVTX | 0777},
                                  {"/", 0, kDir | 0755}};
    CHECK_FALSE(unsafe_location(in_tmp).has_value());
    in_tmp[3].mode = kDir | 0777;  // not sticky
    CHECK(unsafe_location(in_tmp).has_value());
    // A sticky file bit means nothing.
    std::vector<PathEntry> file{{"/x", 0, kFile | S_ISVTX | 0777}, {"/", 0, kDir | 0755}};
    CHECK(unsafe_location(file).has_value());
}
