#include "sys/audit.hpp"

#include <syslog.h>

#include <memory>

#include <spdlog/logger.h>
#include <spdlog/sinks/syslog_sink.h>

namespace banger {

namespace {

spdlog::logger& audit_logger() {
    // Built on first use, never registered globally and never configured
    // from the environment (no SPDLOG_LEVEL): the caller controls the
    // environment and must not be able to silence the audit trail.
    static spdlog::logger logger = [] {
        auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>("banger-signal", LOG_PID, LOG_AUTHPRIV, false);
        spdlog::logger l("audit", std::move(sink));
        l.set_pattern("%v");
        l.set_level(spdlog::level::info);
        l.flush_on(spdlog::level::info);
        return l;
    }();
    return logger;
}

spdlog::level::level_enum level_for(Outcome o) noexcept {
    switch (o) {
        case Outcome::Delivered: return spdlog::level::info;
        case Outcome::SystemError: return spdlog::level::err;
        case Outcome::UsageError:
        case Outcome::NoSuchProcess:
        case Outcome::NotManaged:
        case Outcome::SignalRefused:
        case Outcome::Protected:
        case Outcome::NotAuthorized:
        case Outcome::ConfigError:
        case Outcome::StillRunning: return spdlog::level::warn;
    }
    return spdlog::level::warn;
}

}  // namespace

void audit(Outcome outcome, std::string_view line) { audit_logger().log(level_for(outcome), "{}", line); }

}  // namespace banger
