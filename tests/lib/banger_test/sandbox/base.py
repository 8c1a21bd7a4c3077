"""Names every part of the sandbox uses."""

from __future__ import annotations

import sys

# Environment passed from the outer (host) process to the re-executed inner one.
ENV_INSIDE = 'BANGER_E2E_INSIDE'
ENV_WORKSPACE = 'BANGER_E2E_WORKSPACE'
ENV_CGROUP_NAME = 'BANGER_E2E_CGROUP_NAME'

POLKITD = '/usr/lib/polkit-1/polkitd'
PKEXEC = '/usr/bin/pkexec'
POLKIT_BUS_NAME = 'org.freedesktop.PolicyKit1'
POLKIT_ACTIONS = ('org.banger.signal.run', 'org.banger.signal.send', 'org.banger.signal.kill')
SERVICE_CGROUP_TAIL = 'system.slice/bangerd-root.service'
FOREIGN_CGROUP_TAIL = 'user.slice/user-4242.slice/session-1.scope'
# Where the socket door's activator and its instances run (systemd would put each instance
# in system.slice/system-banger\x2dsignal.slice/banger-signal@N-PID-UID.service).
DOOR_CGROUP_TAIL = 'system.slice/banger-signal.socket'
USER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


class SandboxError(RuntimeError):
    """The sandbox could not be built; the message says which step failed."""


def say(msg: str) -> None:
    print(f'sandbox: {msg}', file=sys.stderr, flush=True)
