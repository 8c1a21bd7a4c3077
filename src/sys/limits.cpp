#include "sys/limits.hpp"

#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "policy/pid.hpp"

namespace banger {

namespace {

constexpr rlim_t kMiB = rlim_t{1} << 20;
// Per target a pidfd, held from its pinning to the end of the call (every
// target is pinned and judged before any bus is spoken to), and a /proc dir
// fd while it is judged; GLib and the bus take a dozen.
constexpr rlim_t kBaseFiles = 128;

struct Need {
    int resource;
    const char* name;
    rlim_t minimum;    // below this the call fails
    rlim_t preferred;  // what the soft limit is raised to, as far as the hard limit allows
    bool lift_hard;    // where root may: soft and hard limit both `preferred`
};

std::string shown(rlim_t value) { return value == RLIM_INFINITY ? "unlimited" : fmt::format("{}", value); }

Status normalize(const Need& need) {
    rlimit now{};
    if (::getrlimit(need.resource, &now) != 0) return Done{};  // nothing to normalise
    if (need.lift_hard && now.rlim_max != need.preferred) {
        const rlimit lifted{need.preferred, need.preferred};
        if (::setrlimit(need.resource, &lifted) == 0) return Done{};  // CAP_SYS_RESOURCE
    }
    rlimit wanted = now;
    wanted.rlim_cur = std::max(need.minimum, std::min(need.preferred, now.rlim_max));
    if (wanted.rlim_cur == now.rlim_cur) return Done{};
    if (wanted.rlim_cur > now.rlim_max) wanted.rlim_max = wanted.rlim_cur;  // needs CAP_SYS_RESOURCE
    if (::setrlimit(need.resource, &wanted) == 0) return Done{};
    if (now.rlim_cur >= need.minimum) return Done{};  // tighter than preferred, but enough
    return Failure{Outcome::SystemError,
                   fmt::format("the caller's {} is {} (hard limit {}), banger-signal needs at least {}; raise it",
                               need.name, shown(now.rlim_cur), shown(now.rlim_max), shown(need.minimum))};
}

}  // namespace

bool forbid_core_dumps() noexcept {
    const rlimit none{0, 0};
    return ::setrlimit(RLIMIT_CORE, &none) == 0 && ::prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) == 0;
}

Status normalize_limits(std::size_t targets) {
    const rlim_t files = kBaseFiles + targets + 1;
    constexpr rlim_t kStack = 8 * kMiB;
    const Need needs[] = {
        // RLIMIT_CPU counts the CPU time spent before exec too: a caller
        // could burn all but a few milliseconds of it, so that its hard limit
        // (SIGKILL, which nothing holds) lands right after a signal is sent.
        // A real-time policy survives exec, and with it RLIMIT_RTTIME, whose
        // hard limit kills a real-time task that runs that long without
        // blocking (leave_real_time() makes it moot where it cannot be
        // lifted). Both lifted where root may; where not, each sent signal is
        // logged at once anyway (event=sending). Never a reason to fail, and first,
        // so that they are lifted even when a later limit refuses the call.
        {RLIMIT_CPU, "RLIMIT_CPU", 0, RLIM_INFINITY, true},
        {RLIMIT_RTTIME, "RLIMIT_RTTIME", 0, RLIM_INFINITY, true},
        {RLIMIT_NOFILE, "RLIMIT_NOFILE", files, RLIM_INFINITY, false},
        // GLib maps a stack per thread and its libraries; nothing here needs
        // much, but an address-space limit counts what is mapped, not used.
        {RLIMIT_AS, "RLIMIT_AS", 1024 * kMiB, RLIM_INFINITY, false},
        {RLIMIT_DATA, "RLIMIT_DATA", 512 * kMiB, RLIM_INFINITY, false},
        {RLIMIT_STACK, "RLIMIT_STACK", kStack, kStack, false},
        // GLib's threads count against the real uid's processes, and once the
        // helper works as its own user, every helper running counts against
        // the same uid: a hard limit the caller chose must not make GLib's
        // thread creation fail (it aborts) when root can lift it.
        {RLIMIT_NPROC, "RLIMIT_NPROC", 64, RLIM_INFINITY, true},
    };
    for (const Need& need : needs) {
        if (auto ok = normalize(need); !ok) return ok;
    }
    pthread_attr_t attr;
    if (::pthread_attr_init(&attr) == 0) {
        (void)::pthread_attr_setstacksize(&attr, kStack);
        (void)::pthread_setattr_default_np(&attr);
        (void)::pthread_attr_destroy(&attr);
    }
    return Done{};
}

}  // namespace banger
