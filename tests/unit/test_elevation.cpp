#include <doctest/doctest.h>

#include "policy/elevation.hpp"

using namespace banger;

TEST_CASE("pkexec exit statuses") {
    // Anything but 126 and 127 is the privileged run's own code.
    for (int code : {0, 2, 3, 4, 5, 6, 7, 8, 9, 10}) {
        CAPTURE(code);
        CHECK_FALSE(read_pkexec_exit(code, "").has_value());
    }
    REQUIRE(read_pkexec_exit(126, "").has_value());
    CHECK(read_pkexec_exit(126, "")->cause == ElevationCause::Dismissed);
    CHECK(read_pkexec_exit(127, "")->cause == ElevationCause::PkexecFailed);
}

TEST_CASE("pkexec's refusals told apart by its own first line (polkit 122-126, C locale)") {
    struct Row {
        const char* said;
        ElevationCause cause;
    };
    const Row rows[] = {
        {"Error executing command as another user: Not authorized\n\nThis incident has been reported.\n",
         ElevationCause::NotAuthorized},
        {"Error getting authority: Error initializing authority: Could not connect: No such file or directory\n",
         ElevationCause::PolkitUnavailable},
        {"Error checking for authorization org.banger.signal.run: GDBus.Error:org.freedesktop.DBus.Error."
         "ServiceUnknown: The name org.freedesktop.PolicyKit1 was not provided by any .service files\n",
         ElevationCause::PolkitUnavailable},
        {"The value for the SHELL variable was not found in the /etc/shells file\n\nThis incident has been reported.\n",
         ElevationCause::PkexecFailed},
        {"\n\nRefusing to render service to dead parents.\n", ElevationCause::PkexecFailed},
    };
    for (const Row& row : rows) {
        CAPTURE(row.said);
        auto r = read_pkexec_exit(127, row.said);
        REQUIRE(r.has_value());
        CHECK(r->status == 127);
        CHECK(r->cause == row.cause);
        CHECK_FALSE(r->line.empty());
        CHECK(r->line.find('\n') == std::string::npos);
    }
    // The first line that says something, printable and bounded.
    auto r = read_pkexec_exit(127, "\n\x1b[31mbad\xff\n" + std::string(1000, 'x'));
    CHECK(r->line == "?[31mbad?");
    CHECK(read_pkexec_exit(127, std::string(1000, 'y'))->line.size() <= 303);
    CHECK(cause_name(ElevationCause::PolkitUnavailable) == "polkit-unavailable");
}
