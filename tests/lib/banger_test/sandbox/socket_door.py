"""The socket door in the sandbox, as systemd would run it, without systemd.

`systemd-socket-activate --accept` listens on the door's socket (the path the build was
configured with, on the sandbox's private /run) and starts one instance per connection
with the connection as fd 3 and LISTEN_FDS=1, as banger-signal.socket does. Each instance
is started as banger-signal@.service starts it: `setpriv` makes it the helper user (with its
groups, as systemd's User= gives them) with exactly the working capabilities, handed over as ambient ones, the bounding set limited
to them and no_new_privs set, before it execs the installed binary with --serve (setpriv
execs in place, so LISTEN_PID stays the instance's). The activator and so every instance
run in a cgroup of their own, apart from the callers'.

What systemd adds beyond that (its sandboxing options, RuntimeMaxSec=) is tested on booted
hosts (tests/hosts).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from .. import cgroups
from ..spawn import SpawnError, spawn
from .base import USER_PATH, SandboxError, say

WORKING_CAPS = '+kill,+sys_ptrace,+dac_read_search'
ACTIVATOR = 'systemd-socket-activate'


class SocketDoor:
    """Started with start(), stopped with stop() (also by the Sandbox, at its end)."""

    def __init__(self, path: str, cgroup: str, cgroup_dir: str, log_path: str):
        self.path = path
        self.cgroup = cgroup            # as /proc/<pid>/cgroup shows it
        self._cgroup_dir = cgroup_dir   # its directory in the cgroup mount
        self.log_path = log_path
        self.activator: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.activator is not None and self.activator.poll() is None

    def start(self, binary: str, helper_user: str, env: dict[str, str] | None = None,
              caps: str = WORKING_CAPS) -> None:
        """Listen; every connection starts `binary --serve` as banger-signal@.service would.

        `env` reaches every instance (test hooks of a -Dtest_hooks binary); `caps` are the
        capabilities it is handed (a test may hand it fewer, as a broken unit would).
        """
        if self.running:
            raise SandboxError('the socket door is already running')
        os.makedirs(os.path.dirname(self.path), mode=0o755, exist_ok=True)
        if os.path.lexists(self.path):
            os.unlink(self.path)
        os.makedirs(self._cgroup_dir, exist_ok=True)
        argv = [ACTIVATOR, '-l', self.path, '--accept', '--fdname=varlink']
        for key, value in (env or {}).items():
            argv += ['-E', f'{key}={value}']
        given = f'-all,{caps}' if caps else '-all'
        # --init-groups, as systemd's User= does: the user's groups, its own primary one
        # among them (the helper user is in no other).
        argv += ['--', 'setpriv', f'--reuid={helper_user}', f'--regid={helper_user}', '--init-groups',
                 f'--inh-caps={given}', f'--ambient-caps={given}', f'--bounding-set={given}',
                 '--no-new-privs', '--', binary, '--serve']
        log = open(self.log_path, 'ab')  # noqa: SIM115: the activator keeps it
        try:
            self.activator = spawn(argv, join=[os.path.join(self._cgroup_dir, 'cgroup.procs')],
                                   env={'PATH': USER_PATH, 'LANG': 'C.UTF-8'}, ready=False,
                                   threads=True, stdout=log, stderr=log)
        except SpawnError as e:
            raise SandboxError(f'{ACTIVATOR}: {e}') from e
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while not os.path.exists(self.path):
            if self.activator.poll() is not None:
                raise SandboxError(f'{ACTIVATOR} exited with {self.activator.returncode}:\n'
                                   + self.log())
            if time.monotonic() > deadline:
                raise SandboxError(f'{ACTIVATOR} did not create {self.path}')
            time.sleep(0.02)
        # banger-signal.socket says SocketMode=0666: polkit decides who may call.
        os.chmod(self.path, 0o666)

    def instances(self) -> list[int]:
        """The pids in the door's cgroup but the activator's: the instances running now."""
        pids = cgroups.read_procs(self._cgroup_dir)
        return [p for p in pids if self.activator is None or p != self.activator.pid]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no instance runs any more (each exits when its call is answered)."""
        deadline = time.monotonic() + timeout
        while self.instances():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def connect(self) -> socket.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        return s

    def stop(self) -> None:
        """The activator and every instance it started; the socket goes with them."""
        if self.activator is not None:
            if self.activator.poll() is None:
                self.activator.send_signal(signal.SIGTERM)
                try:
                    self.activator.wait(5)
                except subprocess.TimeoutExpired:
                    self.activator.kill()
                    self.activator.wait()
            self.activator = None
        for pid in self.instances():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 5
        while self.instances() and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.instances():
            say(f'socket door instances still running: {self.instances()}')
        if os.path.lexists(self.path):
            os.unlink(self.path)

    def log(self) -> str:
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return f.read()
        except OSError:
            return ''
