// --doctor: checks the installation from the point of view of whoever runs
// it (normally an unprivileged admin), and says how to fix what is wrong.
#pragma once

#include <vector>

#include "policy/cgroup_mounts.hpp"
#include "policy/doctor.hpp"

namespace banger {

[[nodiscard]] std::vector<DoctorLine> run_doctor();

}  // namespace banger
