"""Acting as a test user: without a terminal or an agent, as bangerd would."""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass, field

from .base import USER_PATH
from .install import User
from .syslog import LogRecord, SyslogCollector


@dataclass
class Result:
    """What a command run as a test user did."""
    argv: list[str]
    user: User
    returncode: int
    stdout: str
    stderr: str
    log: list[LogRecord] = field(default_factory=list)  # every syslog line sent meanwhile

    def audit(self, ident: str = 'banger-signal') -> list[LogRecord]:
        return [r for r in self.log if r.ident == ident]

    def describe(self) -> str:
        lines = [f'$ {shlex.join(self.argv)}   # as {self.user.name} (uid {self.user.uid})',
                 f'  exit {self.returncode}']
        lines += [f'  stdout: {ln}' for ln in self.stdout.splitlines()]
        lines += [f'  stderr: {ln}' for ln in self.stderr.splitlines()]
        lines += [f'  syslog: {r.ident}[{r.pid}]: {r.message}' for r in self.log]
        return '\n'.join(lines)


def user_env(user: User) -> dict[str, str]:
    return {'PATH': USER_PATH, 'LANG': 'C.UTF-8', 'HOME': '/nonexistent',
            'USER': user.name, 'LOGNAME': user.name}


def as_user_argv(user: User, argv: list[str]) -> list[str]:
    # setpriv execs: pkexec's parent is this harness, which polkit takes as the subject
    # (with the test user's uid, which pkexec passes along).
    return ['setpriv', f'--reuid={user.uid}', f'--regid={user.gid}', '--init-groups',
            '--', *argv]


def run_as(syslog: SyslogCollector, user: User, argv: list[str], timeout: float = 60.0,
           stdin: str | None = None) -> Result:
    """Run argv as `user`; collect exit code, output and every syslog line sent meanwhile."""
    mark = syslog.mark()
    p = subprocess.run(as_user_argv(user, argv), env=user_env(user), cwd='/',
                       input=stdin if stdin is not None else '', capture_output=True,
                       text=True, timeout=timeout, check=False)
    syslog.sync()
    return Result(argv, user, p.returncode, p.stdout, p.stderr, syslog.since(mark))
