"""Touching the e2e sandbox's install, and only it: for tests that break it on purpose.

Every file touched must be a private copy on the sandbox's tmpfs (checked before
touching it); Saved puts it back byte for byte, with its mode and owner.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time

from banger_test import sandbox

ACTION_RUN = 'org.banger.signal.run'




def private_copy(sb: sandbox.Sandbox, path: str) -> str:
    """Refuse to touch anything that is not a file on the sandbox's own tmpfs."""
    if not sb.is_private(path):
        raise AssertionError(f'{path} is not under a private directory of the sandbox')
    if os.lstat(path).st_dev != os.stat(sb.workspace).st_dev:
        raise AssertionError(f'{path} is not a private copy (not on the sandbox tmpfs)')
    return path


class Saved:
    """A file's bytes, mode and owner, to put back exactly."""

    def __init__(self, sb: sandbox.Sandbox, path: str):
        self.path = private_copy(sb, path)
        st = os.lstat(path)
        self.mode, self.uid, self.gid = stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid
        with open(path, 'rb') as f:
            self.data = f.read()

    def restore(self) -> None:
        tmp = f'{self.path}.e2e-restore'
        with open(tmp, 'wb') as f:
            f.write(self.data)
        os.chown(tmp, self.uid, self.gid)
        os.chmod(tmp, self.mode)
        os.rename(tmp, self.path)

    def unchanged(self) -> bool:
        st = os.lstat(self.path)
        with open(self.path, 'rb') as f:
            data = f.read()
        return (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, data) == \
            (self.mode, self.uid, self.gid, self.data)


_INSTALLED: dict[str, str] = {}


def installed(sb: sandbox.Sandbox, name: str) -> str:
    """Where meson installs the file called `name` (the paths the binary was built with)."""
    if not _INSTALLED:
        out = subprocess.run(['meson', 'introspect', '--installed', sb.builddir],
                             capture_output=True, text=True, check=True).stdout
        _INSTALLED.update({os.path.basename(d): d for d in json.loads(out).values()})
    return _INSTALLED[name]


def policy_path(sb: sandbox.Sandbox) -> str:
    return installed(sb, 'org.banger.signal.policy')


def rules_path(sb: sandbox.Sandbox) -> str:
    return installed(sb, '49-banger-signal.rules')


def installed_exec_path() -> str | None:
    r = subprocess.run(['pkaction', '--verbose', '--action-id', ACTION_RUN],
                       capture_output=True, text=True, check=False)
    m = re.search(r'org\.freedesktop\.policykit\.exec\.path -> (\S+)', r.stdout)
    return m[1] if r.returncode == 0 and m else None


def wait_polkit_restored(sb: sandbox.Sandbox, timeout: float = 15) -> None:
    """polkitd has reloaded the restored policy and rules (it watches the directories)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if (installed_exec_path() == sb.installed_binary
                    and sb.authorized(sb.member, ACTION_RUN)):
                return
        except sandbox.SandboxError:
            pass
        if time.monotonic() > deadline:
            raise sandbox.SandboxError('polkitd did not come back to the installed policy')
        time.sleep(0.1)
