"""What every row needs: the sandbox, the plan, and how to run as root or as the member."""

from __future__ import annotations

import grp
import json
from dataclasses import dataclass

from banger_test.sandbox import USER_PATH, Sandbox

from .timing import BenchError, Command, run_checked


@dataclass(frozen=True)
class Plan:
    """How many samples each row takes."""
    warmup: int
    direct: int        # row 1, per side
    pkexec: int        # row 2, per side
    batch: int         # row 3, per side (one sample = 100 pids)
    list_runs: int     # row 4, per block (without, with, without)
    rss: int           # row 5
    many_root: int     # row 6, per side
    many_pkexec: int   # row 7, --dry-run runs (then one with TERM)
    doors: int         # row 8, per side
    door_batch: int    # row 9, per side (one sample = 100 pids)


FULL = Plan(warmup=5, direct=500, pkexec=200, batch=7, list_runs=40, rss=20, many_root=20,
            many_pkexec=5, doors=100, door_batch=15)
QUICK = Plan(warmup=1, direct=10, pkexec=5, batch=1, list_runs=3, rss=3, many_root=2,
             many_pkexec=1, doors=3, door_batch=1)


@dataclass(frozen=True)
class Measured:
    """One row of the table, as measured; `value` is what its budget judges."""
    row: int
    runs: str
    ours: str
    theirs: str
    result: str
    value: float


class Bench:
    def __init__(self, sb: Sandbox, plan: Plan):
        self.sb = sb
        self.plan = plan
        self.bin = sb.installed_binary
        self.config = sb.config_path          # root-owned 0644, names the sandbox's service cgroup
        self.root_env = {'PATH': USER_PATH, 'LANG': 'C.UTF-8'}
        m = sb.member
        assert m is not None
        # Straight to the member's ids (no setpriv exec in between, which would add the same
        # constant to both sides and flatter the ratio). pkexec's parent, this script, is the
        # polkit subject, with the member's uid, as in the e2e tests.
        self.member_kw = dict(user=m.uid, group=m.gid,
                              extra_groups=[m.gid, grp.getgrnam(sb.privileged_group).gr_gid],
                              env=sb.user_env(m), cwd='/', start_new_session=True)

    def root(self, argv: list[str], expect: int | None = 0) -> Command:
        return Command(argv, dict(env=self.root_env), expect)

    def member(self, argv: list[str], expect: int | None = 0) -> Command:
        return Command(argv, dict(self.member_kw), expect)

    def direct_argv(self, *args: str) -> list[str]:
        """banger-signal as root, with the sandbox's install record."""
        return [self.bin, '--config', self.config, *args]

    def pkexec_argv(self, *args: str) -> list[str]:
        return ['pkexec', self.bin, *args]

    def door_argv(self, door: str, *args: str) -> list[str]:
        """The member's own call of the command line, through `door` (socket or pkexec)."""
        return [self.bin, '--door', door, *args]

    def json_outcomes(self, cmd: Command) -> list[dict]:
        """The --json lines of one untimed run of cmd (with --json added)."""
        out = run_checked(cmd.argv + ['--json'], cmd.expect or 0, **cmd.popen).stdout
        return [json.loads(ln) for ln in out.splitlines() if ln.strip()]

    def accepts_all(self, cmd: Command, pids: list[int], what: str) -> None:
        """cmd (a --dry-run) would deliver to every one of pids, in order."""
        objs = self.json_outcomes(cmd)
        if [o.get('pid') for o in objs] != pids or \
                any(o.get('outcome') != 'would-deliver' for o in objs):
            bad = [o for o in objs if o.get('outcome') != 'would-deliver'][:3]
            raise BenchError(f'{what} does not accept its {len(pids)} targets: '
                             f'{len(objs)} answers, e.g. {bad}')
