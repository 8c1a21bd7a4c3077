"""The system user banger-signal works as, for tests that run it as root here.

banger-signal switches to a dedicated unprivileged user (meson -Dhelper_user,
default ``banger-signal``; the package's sysusers.d entry creates it) once it
has opened what needs root, and refuses to work (exit 8) without it. Tests
that run the binary as root on this machine need the user, yet must leave
the machine as they found it: where it is missing, the test re-runs itself
in a private mount namespace in which /etc/passwd and /etc/group are copies
with the user added. (The e2e sandbox stages its own copies.)
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile

ENV_INSIDE = 'BANGER_TEST_HELPER_USER_NS'


def name() -> str:
    """The helper user of the build under test (meson passes BANGER_HELPER_USER)."""
    return os.environ.get('BANGER_HELPER_USER', 'banger-signal')


def free_id(used: set[int], start: int) -> int:
    i = start
    while i in used:
        i += 1
    return i


def with_user(passwd: str, group: str, user: str) -> tuple[str, str]:
    """passwd and group texts with a system user (and its group) added."""
    used = {int(f[2]) for f in (ln.split(':') for ln in passwd.splitlines() + group.splitlines())
            if len(f) >= 3 and f[2].isdigit()}
    uid = free_id(used, 990 if 990 not in used else 64020)
    passwd = passwd.rstrip('\n') + f'\n{user}:x:{uid}:{uid}:banger-signal while it works (tests):/:/usr/sbin/nologin\n'
    group = group.rstrip('\n') + f'\n{user}:x:{uid}:\n'
    return passwd, group


def ensure() -> None:
    """Return once the helper user exists for this process (maybe in a namespace of its own)."""
    user = name()
    try:
        pwd.getpwnam(user)
        return
    except KeyError:
        pass
    if os.environ.get(ENV_INSIDE) == '1':
        _bind_copies(user)
        return
    env = dict(os.environ, **{ENV_INSIDE: '1'})
    # unshare(1) without --fork execs the script itself: same pid, same signals.
    os.execvpe('unshare', ['unshare', '--mount', '--propagation', 'private', '--',
                           sys.executable, *sys.argv], env)


def _bind_copies(user: str) -> None:
    with open('/etc/passwd', encoding='utf-8') as f:
        passwd = f.read()
    with open('/etc/group', encoding='utf-8') as f:
        group = f.read()
    passwd, group = with_user(passwd, group, user)
    work = tempfile.mkdtemp(prefix='banger-helper-user-')
    for path, text in (('/etc/passwd', passwd), ('/etc/group', group)):
        copy = os.path.join(work, os.path.basename(path))
        with open(copy, 'w', encoding='utf-8') as f:
            f.write(text)
        os.chmod(copy, 0o644)
        subprocess.run(['mount', '--bind', copy, path], check=True)
        os.unlink(copy)  # the mount keeps the file; nothing is left behind
    os.rmdir(work)
    pwd.getpwnam(user)  # nscd or sssd would not see the copies: fail here, not in a test
