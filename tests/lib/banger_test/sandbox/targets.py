"""Processes the sandbox starts as root in cgroups of its choice: stand-in VMs, impostors."""

from __future__ import annotations

import os
import subprocess

from .. import procfs
from ..spawn import SpawnError, spawn
from .base import USER_PATH, SandboxError, say


class Target:
    """A process started by the sandbox in a cgroup of its choice (a stand-in VM, an impostor)."""

    def __init__(self, popen: subprocess.Popen, exe: str, cgroup: str):
        self.popen = popen
        self.pid = popen.pid
        self.exe = exe
        self.cgroup = cgroup

    def alive(self) -> bool:
        return self.popen.poll() is None

    def still_alive_after(self, grace: float = 0.3) -> bool:
        """True when the process is still running `grace` seconds from now.

        A signal is delivered synchronously but the process dies asynchronously: a short
        grace keeps "it was not signalled" from being a race we happen to win.
        """
        try:
            self.popen.wait(grace)
            return False
        except subprocess.TimeoutExpired:
            return True

    def gone_within(self, timeout: float = 5.0) -> bool:
        try:
            self.popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            say(f'pid {self.pid} did not die')


class Targets:
    """Every Target started, in `started`, until stop_all()."""

    def __init__(self, cgroup_dir, default_cgroup: str):
        self._cgroup_dir = cgroup_dir          # cgroup path -> its directory in the mount
        self._default_cgroup = default_cgroup
        self.started: list[Target] = []

    def spawn(self, exe: str, args: list[str] | tuple = (), cgroup: str | None = None,
              argv0: str | None = None, env: dict[str, str] | None = None,
              ready_fd: bool = True, timeout: float = 10.0) -> Target:
        """Start `exe` (as root) inside `cgroup` (default: bangerd's service cgroup).

        With ready_fd the program gets STANDIN_READY_FD and must write "ready\\n" to it (the
        stand-in does, once its socket is bound); otherwise we wait until it has exec'd.
        """
        cgroup = cgroup or self._default_cgroup
        os.makedirs(self._cgroup_dir(cgroup), exist_ok=True)
        child_env = {'PATH': USER_PATH, 'LANG': 'C.UTF-8'}
        child_env.update(env or {})
        try:
            # The syslog collector runs a thread: no preexec_fn here (threads=True).
            popen = spawn([argv0 or os.path.basename(exe), *args], executable=exe,
                          join=[os.path.join(self._cgroup_dir(cgroup), 'cgroup.procs')],
                          env=child_env, ready=ready_fd, threads=True, timeout=timeout,
                          stderr=subprocess.DEVNULL)
        except SpawnError as e:
            raise SandboxError(str(e)) from e
        target = Target(popen, exe, cgroup)
        self.started.append(target)
        seen = procfs.cgroup_or_none(popen.pid)
        if seen != cgroup:
            raise SandboxError(f'pid {popen.pid} is in cgroup {seen!r}, expected {cgroup!r}')
        return target

    def stop_all(self) -> None:
        for t in self.started:
            t.stop()
        self.started.clear()
