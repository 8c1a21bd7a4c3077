"""The budgets: the one table of them. README.md's Performance table is checked against
it (bench/run --check-readme, meson suite "contract"); bench/run --budgets prints it.

Rows 2 and 3 are judged against the floors that this project's choices imply, measured
in the same run: the per-target polkit checks stay, with every detail admins' rules see,
and so does libpolkit-gobject-1 (issue 11). Row 2 allows 1.45× `pkexec /bin/true`; row
3 must reach 90% of the speed-up that polkitd's one-at-a-time checks allow any client
(the ceiling the notes under the table compute).
"""

from __future__ import annotations

from dataclasses import dataclass

BATCH_PIDS = 100          # row 3
MANY_PIDS = 4096          # rows 6 and 7: the most one call takes
EXTRA_PROCESSES = 5000    # row 4


@dataclass(frozen=True)
class Budget:
    row: int
    what: str
    text: str            # as the table prints it
    limit: float
    at_least: bool       # the measured value must be >= limit (else <= limit)

    def met(self, value: float) -> bool:
        return value >= self.limit if self.at_least else value <= self.limit


def _at_most(limit: float, text: str) -> dict:
    return {'limit': limit, 'at_least': False, 'text': text}


BUDGETS = (
    # Issue 17, 9: the hardening (issue 12) and CLI11 stay; about 250-300 µs of kernel
    # work is the hardening's by nature (bounding-set drops, seccomp, credential changes,
    # /proc reads, the syslog socket), so the budget went from 1.5× to 1.7×.
    Budget(1, 'root, direct: `--dry-run --pid P` vs `/bin/kill -0 P`', **_at_most(1.7, '≤ 1.7×')),
    Budget(2, 'member: `pkexec banger-signal --pid P --signal TERM` vs `pkexec /bin/true`',
           **_at_most(1.45, '≤ 1.45×')),
    Budget(3, f'member: one call with {BATCH_PIDS} pids vs {BATCH_PIDS} single calls '
              f'(`--dry-run`)', limit=0.9, at_least=True, text='≥ 90% of the ceiling'),
    Budget(4, f'`--list` per extra process ({EXTRA_PROCESSES} sleeping processes)',
           **_at_most(20e3, '≤ 20 µs')),
    Budget(5, 'peak RSS of a direct call', **_at_most(8 * 1024, '≤ 8 MiB')),
    Budget(6, f'root, direct: one `--dry-run` call with {MANY_PIDS} VMs, per target',
           **_at_most(60e3, '≤ 60 µs')),
    # The value judged is the per-target cost over a {BATCH_PIDS}-pid call's, measured in
    # the same rounds; a call that does not deliver to every target misses whatever its
    # speed (the row's value is then infinite).
    Budget(7, f'member: one `pkexec` call with {MANY_PIDS} VMs (`--dry-run`, then TERM)',
           **_at_most(1.5, f'all delivered; per target ≤ 1.5× at {BATCH_PIDS} pids')),
    # Issue 16: the socket door must be faster per call than the pkexec door (on booted
    # hosts too, with systemd's own cost per instance: tests/hosts, socket-bench).
    Budget(8, 'member: `banger-signal --door socket --pid P --signal TERM` vs `--door pkexec`',
           **_at_most(1.0, '< 1× (faster)')),
    Budget(9, f'member: one `--door socket` call with {BATCH_PIDS} pids vs `--door pkexec` '
              f'(`--dry-run`)', **_at_most(1.0, '< 1× (faster)')),
)

BY_ROW = {b.row: b for b in BUDGETS}
assert sorted(BY_ROW) == list(range(1, len(BUDGETS) + 1)), 'rows are numbered 1..N'
