"""A throwaway world for banger-signal's end-to-end tests, demo and benchmarks.

Real pkexec, a real polkitd and a real system bus, without touching the host:

  * the calling script re-executes itself inside a private mount namespace
    (`unshare --mount --propagation private`); every mount below is invisible outside it
    (namespace.py);
  * the project is installed with `meson install --destdir` into a tmpfs workspace, and every
    directory the install writes into (and /etc, /tmp) is replaced, inside the namespace only,
    by a tmpfs copy: the original entries bind-mounted in, the staged files added (install.py,
    mounts.py). The installed binary is therefore executed by exactly the path of its polkit
    exec.path annotation;
  * /etc/passwd, /etc/group and /etc/shadow are copies with test users appended, and /home
    a copy with their homes added (install.py);
  * /run/dbus is a fresh tmpfs; dbus-daemon --system and polkitd run on it (polkit.py);
  * a datagram socket of ours sits on /dev/log, in a private copy of /dev, and a thread
    collects every syslog line (syslog.py);
  * stand-in Firecracker processes run in real cgroups under the cgroup2 mount (targets.py;
    cgroups are not covered by the mount namespace: they are removed at the end, also on
    failure).

world.py puts the parts together (Sandbox); acting.py runs commands as the test users;
flock.py starts thousands of sleeping processes in a cgroup at once; entry.py is what a
script calls to get in.

What is written to the host, and removed afterwards: one empty directory /tmp/banger-e2e-*
(the workspace mount point) and one cgroup tree /banger-e2e-<pid>.

Library use (the script must call enter() before anything else):

    from banger_test import sandbox
    sandbox.enter()                            # re-executes this script; returns inside
    with sandbox.Sandbox(builddir='build') as sb:
        vm = sb.spawn_vm()
        r = sb.run_as(sb.member, ['pkexec', sb.installed_binary, '--pid', str(vm.pid)])

An e2e test file ends with `sys.exit(sandbox.run_unittests(globals()))`. The command line
(demo, shell) is tests/e2e/sandbox.py.
"""

from ..codes import SKIP
from .acting import Result
from .base import (ENV_CGROUP_NAME, ENV_INSIDE, ENV_WORKSPACE, PKEXEC, POLKIT_ACTIONS, USER_PATH,
                   SandboxError)
from .entry import enter, host_problem, run_unittests
from .flock import Flock
from .install import User
from .namespace import enter_private_namespace, missing_tools, preflight
from .syslog import LogRecord
from .targets import Target
from .world import Sandbox

__all__ = ['ENV_CGROUP_NAME', 'ENV_INSIDE', 'ENV_WORKSPACE', 'LogRecord', 'PKEXEC', 'POLKIT_ACTIONS',
           'Flock', 'Result', 'SKIP', 'Sandbox', 'SandboxError', 'Target', 'USER_PATH', 'User', 'enter',
           'enter_private_namespace', 'host_problem', 'missing_tools', 'preflight',
           'run_unittests']
