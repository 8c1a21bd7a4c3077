"""A process of the sandbox whose parent is PID 1, as a systemd service's main process is.

systemd starts a service's main and control process itself, so their parent is PID 1; the
sandbox's other targets are the test's own children. This one is a grandchild whose parent
exits at once, so that the kernel gives it to PID 1. That holds only when no subreaper
stands between the test and PID 1: the start checks it, and fails if not. Not our child,
it is watched and killed through a pidfd; PID 1 reaps it.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

from ..spawn import READY_FD_ENV
from .base import USER_PATH, SandboxError

# The middle process: joins the cgroup (the grandchild inherits it), forks, prints the
# grandchild's pid and exits; the grandchild execs the target with stdout on /dev/null.
_DOUBLE_FORK = '''\
import os, resource, sys
procs, exe, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(procs, "w") as f:
    f.write(str(os.getpid()))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
pid = os.fork()
if pid == 0:
    os.setsid()
    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
    try:
        os.execv(exe, argv)
    finally:
        os._exit(127)
print(pid, flush=True)
'''


def parent_of(pid: int) -> int | None:
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8', errors='replace') as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(')') + 2:].split()[1])


class Adopted:
    """`exe` (a stand-in VM) in the cgroup directory `cgroup_dir`, its parent PID 1, ready."""

    def __init__(self, cgroup_dir: str, exe: str, env: dict[str, str] | None = None,
                 timeout: float = 10.0):
        self.pid, self.pidfd = 0, -1
        ready_r, ready_w = os.pipe()
        child_env = {'PATH': USER_PATH, 'LANG': 'C.UTF-8', 'STANDIN_NO_BIND': '1', **(env or {}),
                     READY_FD_ENV: str(ready_w)}
        try:
            middle = subprocess.Popen(
                [sys.executable, '-I', '-S', '-c', _DOUBLE_FORK,
                 os.path.join(cgroup_dir, 'cgroup.procs'), exe, os.path.basename(exe)],
                env=child_env, pass_fds=[ready_w], cwd='/', stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            os.close(ready_w)
            out, _ = middle.communicate(timeout=timeout)
            if middle.returncode != 0 or not out.strip().isdigit():
                raise SandboxError(f'the double fork failed (exit {middle.returncode})')
            self.pid = int(out)
            self.pidfd = os.pidfd_open(self.pid)
            got = b''
            deadline = time.monotonic() + timeout
            while not got.endswith(b'\n') and select.select([ready_r], [], [],
                                                            max(0, deadline - time.monotonic()))[0]:
                chunk = os.read(ready_r, 64)
                if not chunk:
                    break
                got += chunk
        finally:
            os.close(ready_r)
        if got != b'ready\n':
            self.stop()
            raise SandboxError(f'adopted pid {self.pid} did not get ready (read {got!r})')
        parent = parent_of(self.pid)
        if parent != 1:
            self.stop()
            raise SandboxError(f'pid {self.pid} was adopted by pid {parent}, not PID 1: a '
                               f'subreaper runs between this test and init')

    def gone_within(self, timeout: float = 5.0) -> bool:
        """It has exited (the pidfd turns readable then)."""
        return bool(select.select([self.pidfd], [], [], timeout)[0])

    def still_alive_after(self, grace: float = 0.3) -> bool:
        return not self.gone_within(grace)

    def stop(self) -> None:
        if self.pidfd < 0:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.gone_within(5)
        os.close(self.pidfd)
        self.pidfd = -1
