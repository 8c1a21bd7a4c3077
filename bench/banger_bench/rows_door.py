"""The rows measured as the member through either door: 8 (one pid) and 9 (100 pids at
once), the socket door against the pkexec door, both as an unprivileged call of the
command line (`banger-signal --door socket|pkexec ...`), which is what bangerd runs.

The socket door here is the sandbox's: systemd-socket-activate --accept starting each
instance with setpriv, as banger-signal.socket and banger-signal@.service would, but
without what systemd itself adds per instance (its sandboxing, a unit and a cgroup of its
own). tests/hosts (scenario socket-bench) measures that on booted Debian 12 and 13, with
`systemctl kill` beside both doors.
"""

from __future__ import annotations

from .budgets import BATCH_PIDS
from .context import Bench, Measured
from .report import fmt_ns
from .rows_root import pid_args
from .timing import BenchError, alternate, median, timed


def _stop_fresh(b: Bench, door: str) -> int:
    """One timed `banger-signal --door DOOR --pid P --signal TERM`, P started untimed."""
    target = b.sb.spawn_vm()
    ns = b.member(b.door_argv(door, '--pid', str(target.pid), '--signal', 'TERM')).once()
    if not target.gone_within(5):
        raise BenchError(f'banger-signal --door {door} exited 0 but pid {target.pid} is alive')
    b.sb.targets.remove(target)
    return ns


def door_rows(b: Bench) -> tuple[Measured, Measured]:
    """Rows 8 and 9; the socket door listens for their time only."""
    b.sb.start_door()
    try:
        for _ in range(b.plan.warmup):
            _stop_fresh(b, 'socket')
            _stop_fresh(b, 'pkexec')
        s, p = alternate(b.plan.doors, [lambda: _stop_fresh(b, 'socket'),
                                        lambda: _stop_fresh(b, 'pkexec')])
        one = median(s) / median(p)
        row8 = Measured(8, f'{b.plan.doors}+{b.plan.doors}', fmt_ns(median(s)), fmt_ns(median(p)),
                        f'{one:.2f}×', one)

        targets = [b.sb.spawn_vm() for _ in range(BATCH_PIDS)]
        pids = [t.pid for t in targets]
        socket = b.member(b.door_argv('socket', '--dry-run', *pid_args(pids)))
        pkexec = b.member(b.door_argv('pkexec', '--dry-run', *pid_args(pids)))
        b.accepts_all(socket, pids, 'the socket door\'s batch call')
        b.accepts_all(pkexec, pids, 'the pkexec door\'s batch call')
        timed(socket.argv, **socket.popen)
        timed(pkexec.argv, **pkexec.popen)
        s, p = alternate(b.plan.door_batch, [socket.once, pkexec.once])
        if not all(t.alive() for t in targets):
            raise BenchError('a --dry-run target died during row 9')
        for target in targets:
            target.stop()
            b.sb.targets.remove(target)
        many = median(s) / median(p)
        row9 = Measured(9, f'{b.plan.door_batch}+{b.plan.door_batch}', fmt_ns(median(s)),
                        fmt_ns(median(p)), f'{many:.2f}×', many)
        return row8, row9
    finally:
        b.sb.stop_door()
