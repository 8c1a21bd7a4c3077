"""The rows measured as root, without pkexec: 1 (a direct call), 4 (--list), 5 (peak
RSS) and 6 (one call with 4096 VMs)."""

from __future__ import annotations

import os

from banger_test.sandbox import Flock, Target

from .budgets import EXTRA_PROCESSES, MANY_PIDS
from .context import Bench, Measured
from .report import fmt_ns
from .timing import BenchError, alternate, median, peak_rss_kib, timed


def pid_args(pids: list[int]) -> list[str]:
    return [a for p in pids for a in ('--pid', str(p))]


def direct_call(b: Bench, vm: Target) -> Measured:
    """Row 1: `banger-signal --dry-run --pid P` against `/bin/kill -0 P`."""
    ours = b.root(b.direct_argv('--dry-run', '--pid', str(vm.pid)))
    theirs = b.root(['/bin/kill', '-0', str(vm.pid)])
    b.accepts_all(ours, [vm.pid], 'the direct call')
    for _ in range(b.plan.warmup):
        timed(ours.argv, **ours.popen)
        timed(theirs.argv, **theirs.popen)
    a, k = alternate(b.plan.direct, [ours.once, theirs.once])
    if not vm.alive():
        raise BenchError(f'the dry-run target {vm.pid} died during row 1')
    ratio = median(a) / median(k)
    return Measured(1, f'{b.plan.direct}+{b.plan.direct}', fmt_ns(median(a)), fmt_ns(median(k)),
                    f'{ratio:.2f}×', ratio)


def peak_rss(b: Bench, vm: Target) -> Measured:
    """Row 5: the peak RSS of row 1's call (kill's for reference)."""
    sides = {'ours': b.direct_argv('--dry-run', '--pid', str(vm.pid)),
             'kill': ['/bin/kill', '-0', str(vm.pid)]}
    peaks = dict.fromkeys(sides, 0)
    for _ in range(b.plan.rss):
        for name, argv in sides.items():
            kib, rc = peak_rss_kib(argv, b.root_env)
            b.root(argv).check(rc)
            peaks[name] = max(peaks[name], kib)
    mib = peaks['ours'] / 1024
    return Measured(5, f'{b.plan.rss}+{b.plan.rss}', f'{mib:.1f} MiB',
                    f'{peaks["kill"] / 1024:.1f} MiB (kill)', f'{mib:.1f} MiB', peaks['ours'])


def count_processes() -> int:
    return sum(1 for e in os.listdir('/proc') if e.isdigit())


def list_cost(b: Bench, vm: Target) -> Measured:
    """Row 4: what one more process on the host costs --list: (median with EXTRA sleeping
    processes - median without) / EXTRA, in blocks without, with, without."""
    cmd = b.root(b.direct_argv('--list'))

    def listed() -> list[int]:
        return sorted(o['pid'] for o in b.json_outcomes(cmd))

    def block() -> list[int]:
        for _ in range(b.plan.warmup):
            timed(cmd.argv, **cmd.popen)
        return [cmd.once() for _ in range(b.plan.list_runs)]

    before_list = listed()
    if vm.pid not in before_list:
        raise BenchError(f'--list does not show the stand-in {vm.pid}: {before_list}')
    before = block()
    with Flock(b.sb, EXTRA_PROCESSES, f'{b.sb.cgroup_base}/bench.slice/sleepers.scope'):
        with_list = listed()
        if with_list != before_list:
            raise BenchError(f'--list changed with the sleepers: {before_list} -> {with_list}')
        during = block()
        seen = count_processes()
        if seen < EXTRA_PROCESSES:
            raise BenchError(f'only {seen} processes on the host with {EXTRA_PROCESSES} '
                             f'sleepers')
    after = block()
    per_process = (median(during) - (median(before) + median(after)) / 2) / EXTRA_PROCESSES
    return Measured(4, f'3×{b.plan.list_runs}', f'{fmt_ns(median(during))} with',
                    f'{fmt_ns(median(before))} / {fmt_ns(median(after))} without '
                    f'(before/after)', f'{per_process / 1e3:.1f} µs/process', per_process)


def many_root(b: Bench) -> Measured:
    """Row 6: one --dry-run call with MANY_PIDS VMs against the same call with one of
    them, as root (no polkit): what one more target costs the call."""
    with Flock(b.sb, MANY_PIDS, b.sb.service_cgroup) as vms:
        one = b.root(b.direct_argv('--dry-run', '--pid', str(vms.pids[0])))
        many = b.root(b.direct_argv('--dry-run', *pid_args(vms.pids)))
        b.accepts_all(many, vms.pids, f'the direct call with {MANY_PIDS} pids')
        timed(many.argv, **many.popen)   # warm-up
        a, o = alternate(b.plan.many_root, [many.once, one.once])
        if vms.gone():
            raise BenchError(f'{len(vms.gone())} --dry-run targets died during row 6')
    per_target = (median(a) - median(o)) / (MANY_PIDS - 1)
    return Measured(6, f'{b.plan.many_root}+{b.plan.many_root}', fmt_ns(median(a)),
                    f'{fmt_ns(median(o))} (one pid)', f'{fmt_ns(per_target)} per target',
                    per_target)
