// Asking systemd which processes are a service's own (its main and control
// process), over the system bus.
#pragma once

#include <string>

#include "policy/result.hpp"
#include "policy/service.hpp"

namespace banger {

// Whether systemd is the init system here (sd_booted(): /run/systemd/system).
[[nodiscard]] bool systemd_runs() noexcept;

// The unit's MainPID and ControlPID (0 each when it has none, or the unit is
// not loaded). libgio is opened on first use, as libpolkit-gobject-1 is; the
// bus connection is GIO's shared one, polkit's too when it is open. Failure:
// SystemError with the reason.
[[nodiscard]] Result<ServiceProcesses> ask_service_processes(const std::string& unit);

}  // namespace banger
