"""The outer process: can the sandbox run here, re-exec inside a private mount
namespace, and clean the host afterwards."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from .. import cgroups
from .base import ENV_CGROUP_NAME, ENV_INSIDE, ENV_WORKSPACE, PKEXEC, POLKITD, say



def preflight() -> str | None:
    """Why the sandbox cannot run here (the caller should skip), or None."""
    if os.geteuid() != 0:
        return 'needs root'
    try:
        with open('/proc/self/uid_map', encoding='ascii') as f:
            if f.read().split() != ['0', '0', '4294967295']:
                return 'needs real root: running in a user namespace (setuid pkexec cannot work)'
    except OSError:
        pass
    if shutil.which('unshare') is None:
        return 'unshare(1) not installed'
    probe = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'true'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           check=False)
    if probe.returncode != 0:
        return f'cannot create a mount namespace: {probe.stderr.strip()}'
    return None


def missing_tools() -> list[str]:
    """Programs the sandbox needs; not a reason to skip: CI must have them."""
    need = [PKEXEC, POLKITD, 'dbus-daemon', 'dbus-send', 'setpriv', 'pkcheck', 'pkaction',
            'meson']
    return [p for p in need if (shutil.which(p) if '/' not in p else
                                (p if os.access(p, os.X_OK) else None)) is None]


def _mnt_ns(pid: int | str) -> str | None:
    try:
        return os.readlink(f'/proc/{pid}/ns/mnt')
    except OSError:
        return None


def _hold_mnt_ns(pid: int) -> tuple[str, int] | None:
    """The mount namespace of `pid` and an fd that keeps it alive. Without one, a namespace
    whose last process has exited is freed and its number given to the next one created
    (anyone's, such as another test's `unshare --mount`), whose processes the cleanup would
    then kill as leftovers of ours (seen: SIGKILL for a concurrent test's process)."""
    try:
        fd = os.open(f'/proc/{pid}/ns/mnt', os.O_RDONLY)
    except OSError:
        return None
    return os.readlink(f'/proc/self/fd/{fd}'), fd


def _pids_in_mnt_ns(ns: str) -> list[int]:
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid() and _mnt_ns(entry) == ns:
            found.append(int(entry))
    return found


def enter_private_namespace() -> None:
    """Re-execute the running script in a private mount namespace; return only there.

    The outer process waits, then removes what the namespace could not: leftover processes
    of the namespace (dbus-daemon forks into its own session), the cgroup tree and the
    workspace mount point. It exits with the child's status. The inner process finds its
    parameters in the environment.
    """
    if os.environ.get(ENV_INSIDE) == '1':
        return
    workspace = tempfile.mkdtemp(prefix='banger-e2e-', dir='/tmp')
    os.chmod(workspace, 0o755)
    cgroup_name = f'banger-e2e-{os.getpid()}'
    env = dict(os.environ)
    env.update({ENV_INSIDE: '1', ENV_WORKSPACE: workspace, ENV_CGROUP_NAME: cgroup_name})
    cmd = ['unshare', '--mount', '--propagation', 'private', '--',
           sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]]
    own_ns = _mnt_ns('self')
    child_ns, child_ns_fd = None, -1
    child: subprocess.Popen | None = None

    def forward(signum, _frame):
        # meson signals the whole process group, an interactive user maybe only us: make
        # sure the inner process hears it; it tears the sandbox down (and ignores repeats).
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        child = subprocess.Popen(cmd, env=env)
        deadline = time.monotonic() + 5
        while child.poll() is None and time.monotonic() < deadline:
            held = _hold_mnt_ns(child.pid)
            if held is not None and held[0] != own_ns:
                child_ns, child_ns_fd = held
                break
            if held is not None:
                os.close(held[1])
            time.sleep(0.01)
        rc = child.wait()
    finally:
        if child_ns is not None:
            for pid in _pids_in_mnt_ns(child_ns):
                say(f'killing leftover process {pid} of the sandbox')
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.close(child_ns_fd)
        _remove_cgroups(cgroup_name)
        shutil.rmtree(workspace, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)
    sys.exit(rc if rc >= 0 else 128 - rc)


def _remove_cgroups(cgroup_name: str) -> None:
    mount = cgroups.cgroup2_mount()
    if mount is None:
        say('cgroup cleanup: no cgroup2 mount in /proc/self/mountinfo')
        return
    for problem in cgroups.remove_tree(os.path.join(mount.point, cgroup_name)):
        say(f'could not remove cgroup {problem}')
