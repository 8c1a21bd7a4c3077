"""Many sleeping processes in one cgroup: VMs by the thousand (rule 1 accepts any process
in the service cgroup) for tests/e2e/test_batches.py and bench/run, or extra processes
on the host (bench/run, row 4).

A helper forks them (one fork each, no exec: thousands in a second or two), prints
their pids, and kills and reaps them itself when its stdin closes, also if the bench
dies, so no orphan is left for an init that may not reap. A child that a signal ends
stays a zombie until then: "gone or zombie" is how the bench sees it was delivered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from .. import procfs
from .base import USER_PATH, SandboxError
from .world import Sandbox

_HELPER = '''\
import os, signal, sys
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
signal.signal(signal.SIGINT, signal.SIG_IGN)
kids = []
try:
    for _ in range(int(sys.argv[2])):
        pid = os.fork()
        if pid == 0:
            while True:
                signal.pause()
        kids.append(pid)
    sys.stdout.write(" ".join(map(str, kids)) + "\\n")
    sys.stdout.flush()
    sys.stdin.read()
finally:
    for pid in kids:
        os.kill(pid, signal.SIGKILL)
    for pid in kids:
        os.waitpid(pid, 0)
'''


class Flock:
    """`count` sleeping processes in `cgroup` (a path as /proc/<pid>/cgroup shows it)."""

    def __init__(self, sb: Sandbox, count: int, cgroup: str):
        self.sb = sb
        self.count = count
        self.cgroup = cgroup
        self.pids: list[int] = []
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> 'Flock':
        os.makedirs(self.sb.cgroup_dir(self.cgroup), exist_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, '-I', '-S', '-c', _HELPER,
             os.path.join(self.sb.cgroup_dir(self.cgroup), 'cgroup.procs'), str(self.count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd='/', env={'PATH': USER_PATH})
        assert self.proc.stdout is not None
        self.pids = [int(p) for p in self.proc.stdout.readline().split()]
        if len(self.pids) != self.count:
            self.__exit__()
            raise SandboxError(f'the flock helper did not start {self.count} processes '
                             f'(exit {self.proc.poll() if self.proc else "?"})')
        return self

    def gone(self) -> list[int]:
        """The flock's processes that a signal has ended (zombies until the helper reaps)."""
        return [p for p in self.pids if procfs.gone_or_zombie(p)]

    def alive(self) -> list[int]:
        return [p for p in self.pids if not procfs.gone_or_zombie(p)]

    def alive_after(self, timeout: float) -> list[int]:
        """The pids still alive after up to `timeout` seconds of waiting for all to end."""
        deadline = time.monotonic() + timeout
        left = self.alive()
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = self.alive()
        return left

    def __exit__(self, *exc) -> None:
        p = self.proc
        if p is None:
            return
        self.proc = None
        assert p.stdin is not None and p.stdout is not None
        try:
            p.stdin.close()
        except OSError:
            pass
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            kill = os.path.join(self.sb.cgroup_dir(self.cgroup), 'cgroup.kill')
            with open(kill, 'w', encoding='ascii') as f:
                f.write('1')
            p.wait(30)
        p.stdout.close()
