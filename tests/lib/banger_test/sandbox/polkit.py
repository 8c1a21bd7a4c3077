"""The private system bus and polkitd, and asking polkitd directly (pkcheck)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .. import procfs
from . import mounts
from .acting import as_user_argv, user_env
from .base import POLKIT_ACTIONS, POLKIT_BUS_NAME, POLKITD, SandboxError
from .install import User

# Where the bus finds what it may start on demand: polkitd among them, as root.
ACTIVATION_DIR = '/usr/share/dbus-1/system-services'


def _ask_bus(member: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(['dbus-send', '--system', '--print-reply', '--reply-timeout=2000',
                           '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
                           f'org.freedesktop.DBus.{member}', *args],
                          capture_output=True, text=True, check=False, timeout=10)


def _reload_bus() -> None:
    """The bus reads its configuration and activation directories again."""
    r = _ask_bus('ReloadConfig')
    if r.returncode != 0:
        raise SandboxError(f'the system bus did not reload: {r.stderr.strip()}')


def bus_has(name: str) -> bool:
    """Someone owns `name` on the sandbox's system bus."""
    r = _ask_bus('NameHasOwner', f'string:{name}')
    return r.returncode == 0 and 'boolean true' in r.stdout


class Polkit:
    """dbus-daemon --system on a fresh /run/dbus, polkitd on it; stopped by pid."""

    def __init__(self, workspace: str):
        self.workspace = workspace
        self.log_path = os.path.join(workspace, 'polkitd.log')
        self.dbus_pid: int | None = None
        self.polkitd: subprocess.Popen | None = None
        self._subjects: dict[str, subprocess.Popen] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._start_bus()
        self._start_polkitd()

    def _start_bus(self) -> None:
        mounts.tmpfs('/run/dbus')
        os.environ.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        r = subprocess.run(['dbus-daemon', '--system', '--fork', '--nopidfile', '--print-pid'],
                           capture_output=True, text=True, check=False, timeout=30)
        if r.returncode != 0 or not r.stdout.strip().isdigit():
            raise SandboxError(f'dbus-daemon failed ({r.returncode}): {r.stderr.strip()}')
        self.dbus_pid = int(r.stdout.strip())

    def _start_polkitd(self) -> None:
        with open(self.log_path, 'ab') as log:
            self.polkitd = subprocess.Popen([POLKITD, '--no-debug'], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not bus_has(POLKIT_BUS_NAME):
            if self.polkitd.poll() is not None:
                raise SandboxError(f'polkitd exited with {self.polkitd.returncode}:\n'
                                   + self.log())
            if time.monotonic() > deadline:
                raise SandboxError('polkitd did not appear on the bus within 30 s')
            time.sleep(0.05)
        for action in POLKIT_ACTIONS:
            if subprocess.run(['pkaction', '--action-id', action], capture_output=True,
                              check=False).returncode != 0:
                raise SandboxError(f'polkitd does not know {action}: is the policy installed '
                                   f'to /usr/share/polkit-1/actions?')

    @contextlib.contextmanager
    def polkitd_stopped(self):
        """polkitd off the bus for the `with` block, then started again and answering.

        Stopping it is not enough: asked for org.freedesktop.PolicyKit1, the bus would start
        another polkitd from its activation file, as root and out of our sight. So an empty
        directory hides that directory (in the private namespace only) while polkitd is gone.
        """
        empty = tempfile.mkdtemp(prefix='no-activation-', dir=self.workspace)
        mounts.bind(empty, ACTIVATION_DIR)
        try:
            _reload_bus()
            self.stop_polkitd()
            deadline = time.monotonic() + 10
            while bus_has(POLKIT_BUS_NAME):
                if time.monotonic() > deadline:
                    raise SandboxError('polkitd still on the bus after it was stopped')
                time.sleep(0.05)
            yield
        finally:
            mounts.umount(ACTIVATION_DIR)
            os.rmdir(empty)
            _reload_bus()
            if self.polkitd is None:
                self._start_polkitd()     # returns once it is on the bus and knows our actions

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors='replace')
        except OSError:
            return ''

    def stop_subjects(self) -> None:
        for p in self._subjects.values():
            if p.poll() is None:
                p.kill()
            p.wait(5)
        self._subjects.clear()

    def stop_polkitd(self) -> None:
        if self.polkitd is not None and self.polkitd.poll() is None:
            self.polkitd.terminate()
            try:
                self.polkitd.wait(5)
            except subprocess.TimeoutExpired:
                self.polkitd.kill()
                self.polkitd.wait(5)
        self.polkitd = None

    def stop_bus(self) -> None:
        if self.dbus_pid is None:
            return
        pid, self.dbus_pid = self.dbus_pid, None
        # Not our child (it forked): signal it by pid, then wait for /proc/<pid> to go.
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if procfs.gone_or_zombie(pid):
                    return
                time.sleep(0.02)

    # -- asking polkitd ----------------------------------------------------------------------

    def _subject(self, user: User) -> subprocess.Popen:
        p = self._subjects.get(user.name)
        if p is None or p.poll() is not None:
            p = subprocess.Popen(as_user_argv(user, ['sleep', 'infinity']),
                                 env=user_env(user), cwd='/', stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 5
            while procfs.exe_of(p.pid) != os.path.realpath(shutil.which('sleep') or '/bin/sleep'):
                if time.monotonic() > deadline:
                    raise SandboxError('subject process did not start')
                time.sleep(0.01)
            self._subjects[user.name] = p
        return p

    def authorized(self, user: User, action: str, details: dict[str, str] | None = None) -> bool:
        """Ask polkitd directly (pkcheck, no interaction) whether `user` gets `action`."""
        subj = self._subject(user)
        argv = ['pkcheck', '--action-id', action, '--process', f'{subj.pid},0,{user.uid}']
        for k, v in (details or {}).items():
            argv += ['--detail', k, v]
        r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
        if r.returncode not in (0, 1, 2):
            raise SandboxError(f'pkcheck failed ({r.returncode}): {r.stderr.strip()}')
        return r.returncode == 0

    def wait_authorization(self, user: User, action: str, expected: bool,
                           details: dict[str, str] | None = None, timeout: float = 15) -> None:
        """Wait until polkitd's answer is `expected` (it reloads rules by itself, ~1 s)."""
        deadline = time.monotonic() + timeout
        while self.authorized(user, action, details) != expected:
            if time.monotonic() > deadline:
                raise SandboxError(f'polkitd still answers {not expected} for {action} '
                                   f'and {user.name} after {timeout} s')
            time.sleep(0.1)
