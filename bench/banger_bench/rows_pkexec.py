"""The rows measured as the member, through pkexec: 2 (one pid), 3 (100 pids at once
against 100 calls) and 7 (one call with 4096 VMs)."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass

from banger_test.sandbox import Flock

from .budgets import BATCH_PIDS, MANY_PIDS
from .context import Bench, Measured
from .report import fmt_ns
from .rows_root import pid_args
from .timing import BenchError, Command, alternate, median, timed

ROOT_RUNS_PER_ROUND = 7   # row 3's root calls, per round (a few ms each)


@dataclass(frozen=True)
class PkexecSingle:
    """Row 2's medians, which the notes build on."""
    true_ns: float      # pkexec /bin/true
    version_ns: float   # pkexec banger-signal --version
    term_ns: float      # pkexec banger-signal --pid P --signal TERM


@dataclass(frozen=True)
class PkexecBatch:
    """Row 3's facts: what one more target costs a call through pkexec and as root."""
    single_ns: float              # one of the 100 single calls
    per_target_pkexec_ns: float
    per_target_root_ns: float
    true_ns: float

    @property
    def polkit_ns(self) -> float:
        """One target's polkit check (client and polkitd), which root's calls skip."""
        return max(self.per_target_pkexec_ns - self.per_target_root_ns, 0.0)

    @property
    def ceiling(self) -> float:
        """The speed-up over BATCH_PIDS single calls of a batch call that cost nothing but
        pkexec and its polkit checks, which polkitd answers one at a time: any client's."""
        return BATCH_PIDS * self.single_ns / (self.true_ns + BATCH_PIDS * self.polkit_ns)


def allow_pkexec_true(b: Bench) -> None:
    """Let the member run `pkexec /bin/true` (sandbox only), so row 2 compares two
    authorized pkexec calls rather than a call against a refusal."""
    m = b.sb.member
    assert m is not None
    b.sb.write_file('/etc/polkit-1/rules.d/40-banger-bench-true.rules',
                    '// bench/run: the baseline of the pkexec row.\n'
                    'polkit.addRule(function(action, subject) {\n'
                    '    if (action.id == "org.freedesktop.policykit.exec" &&\n'
                    f'        subject.user == "{m.name}" &&\n'
                    '        (action.lookup("program") == "/bin/true" ||\n'
                    '         action.lookup("program") == "/usr/bin/true")) {\n'
                    '        return polkit.Result.YES;\n'
                    '    }\n'
                    '});\n')
    deadline = time.monotonic() + 20
    while True:   # polkitd picks up new rules by itself, within about a second
        _, rc = timed(['pkexec', '/bin/true'], **b.member_kw)
        if rc == 0:
            return
        if time.monotonic() > deadline:
            raise BenchError(f'pkexec /bin/true as {m.name} still exits {rc} after adding a '
                             f'polkit rule for it')
        time.sleep(0.2)


def _term_fresh_target(b: Bench) -> int:
    """One timed `pkexec banger-signal --pid P --signal TERM`, P started untimed before."""
    target = b.sb.spawn_vm()
    ns = b.member(b.pkexec_argv('--pid', str(target.pid), '--signal', 'TERM')).once()
    if not target.gone_within(5):
        raise BenchError(f'pkexec banger-signal exited 0 but pid {target.pid} is alive')
    b.sb.targets.remove(target)
    return ns


def pkexec_single(b: Bench) -> tuple[Measured, PkexecSingle]:
    """Row 2, with `pkexec banger-signal --version` alternated as a third command (not
    part of the budget: pkexec's gate check and the binary's start, without a target,
    polkit client or signal), which splits the difference in two for the notes."""
    true = b.member(['pkexec', '/bin/true'])
    version = b.member(b.pkexec_argv('--version'))
    for _ in range(b.plan.warmup):
        timed(true.argv, **true.popen)
        timed(version.argv, **version.popen)
        _term_fresh_target(b)
    a, t, v = alternate(b.plan.pkexec, [lambda: _term_fresh_target(b), true.once, version.once])
    facts = PkexecSingle(true_ns=median(t), version_ns=median(v), term_ns=median(a))
    ratio = facts.term_ns / facts.true_ns
    return Measured(2, f'{b.plan.pkexec}+{b.plan.pkexec}', fmt_ns(facts.term_ns),
                    fmt_ns(facts.true_ns), f'{ratio:.2f}×', ratio), facts


def pkexec_batch(b: Bench) -> tuple[Measured, PkexecBatch]:
    """Row 3 (both sides --dry-run, so the same targets serve every run). Alternated with
    them, in the same rounds: `pkexec /bin/true`, and the same 100 pids and one of them as
    root (no polkit), for the per-target cost of a polkit check and so the ceiling."""
    targets = [b.sb.spawn_vm() for _ in range(BATCH_PIDS)]
    pids = [t.pid for t in targets]
    one_call = b.member(b.pkexec_argv('--dry-run', *pid_args(pids)))
    singles = [b.member(b.pkexec_argv('--dry-run', '--pid', str(p))) for p in pids]
    true = b.member(['pkexec', '/bin/true'])
    root_one = b.root(b.direct_argv('--dry-run', '--pid', str(pids[0])))
    root_all = b.root(b.direct_argv('--dry-run', *pid_args(pids)))
    b.accepts_all(one_call, pids, 'the batch call')
    timed(one_call.argv, **one_call.popen)   # warm-up

    def root_runs(cmd: Command) -> float:   # root calls are short: several per round
        return median([cmd.once() for _ in range(ROOT_RUNS_PER_ROUND)])
    batch, hundred, t, one, many = alternate(
        b.plan.batch, [one_call.once, lambda: sum(c.once() for c in singles), true.once,
                       lambda: root_runs(root_one), lambda: root_runs(root_all)])
    if not all(t.alive() for t in targets):
        raise BenchError('a --dry-run target died during row 3')
    for target in targets:
        target.stop()
        b.sb.targets.remove(target)
    single_ns = median(hundred) / BATCH_PIDS
    n = BATCH_PIDS - 1
    facts = PkexecBatch(single_ns=single_ns,
                        per_target_pkexec_ns=(median(batch) - single_ns) / n,
                        per_target_root_ns=(median(many) - median(one)) / n,
                        true_ns=median(t))
    speedup = median(hundred) / median(batch)
    share = speedup / facts.ceiling
    return Measured(3, f'{b.plan.batch}+{b.plan.batch}', fmt_ns(median(batch)),
                    fmt_ns(median(hundred)), f'{speedup:.1f}× faster, {share:.1%} of the '
                    f'{facts.ceiling:.1f}× ceiling', share), facts


def _answers(cmd: Command, vms: Flock, out_path: str) -> tuple[int, list[dict]]:
    """(ns, --json answers) of one timed run of cmd, its stdout in a file (not /dev/null)."""
    with open(out_path, 'w+b') as out:
        ns = cmd.once(stdout=out.fileno())
        out.seek(0)
        objs = [json.loads(ln) for ln in out.read().splitlines() if ln.strip()]
    if [o.get('pid') for o in objs] != vms.pids:
        raise BenchError(f'{len(objs)} JSON answers for {len(vms.pids)} pids')
    return ns, objs


def _count(objs: list[dict], outcome: str) -> int:
    return sum(1 for o in objs if o.get('outcome') == outcome)


def pkexec_many(b: Bench, batch: PkexecBatch) -> Measured:
    """Row 7: one `pkexec banger-signal --dry-run --json` call with MANY_PIDS VMs,
    alternated with the same call for BATCH_PIDS of them and for one (the same VMs serve
    every run): one more target must cost what it costs in a call of row 3's size. Then
    --signal TERM once, for real: every target must be delivered, and gone."""
    fd, out_path = tempfile.mkstemp(prefix='bench-row7-', dir=b.sb.workspace)
    os.close(fd)
    with Flock(b.sb, MANY_PIDS, b.sb.service_cgroup) as vms:
        many = b.member(b.pkexec_argv('--dry-run', '--json', *pid_args(vms.pids)), expect=None)
        hundred = b.member(b.pkexec_argv('--dry-run', *pid_args(vms.pids[:BATCH_PIDS])))
        one = b.member(b.pkexec_argv('--dry-run', '--pid', str(vms.pids[0])))
        counts: list[int] = []

        def many_once() -> int:
            ns, objs = _answers(many, vms, out_path)
            counts.append(_count(objs, 'would-deliver'))
            return ns
        m, h, o = alternate(b.plan.many_pkexec, [many_once, hundred.once, one.once])
        if vms.gone():
            raise BenchError(f'{len(vms.gone())} --dry-run targets died during row 7')
        term = b.member(b.pkexec_argv('--signal', 'TERM', '--json', *pid_args(vms.pids)),
                        expect=None)
        _, objs = _answers(term, vms, out_path)
        delivered = [o['pid'] for o in objs if o.get('outcome') == 'delivered']
        deadline = time.monotonic() + 10
        while set(delivered) - set(vms.gone()) and time.monotonic() < deadline:
            time.sleep(0.05)
        if set(delivered) - set(vms.gone()):
            raise BenchError(f'{len(set(delivered) - set(vms.gone()))} targets reported '
                             f'delivered are still running')
        counts.append(len(delivered))
    os.unlink(out_path)
    per_target = (median(m) - median(o)) / (MANY_PIDS - 1)
    per_target_100 = (median(h) - median(o)) / (BATCH_PIDS - 1)
    ratio = per_target / per_target_100
    got = f'{min(counts)}' if min(counts) == max(counts) else f'{min(counts)}..{max(counts)}'
    return Measured(7, f'3×{b.plan.many_pkexec}+1', fmt_ns(median(m)),
                    f'{fmt_ns(median(h))} ({BATCH_PIDS} pids) / {fmt_ns(median(o))} (one)',
                    f'{got}/{MANY_PIDS} delivered; {fmt_ns(per_target)} per target, '
                    f'{ratio:.2f}× the {BATCH_PIDS}-pid call\'s (polkit check '
                    f'{fmt_ns(batch.polkit_ns)}, row 3)',
                    ratio if min(counts) == MANY_PIDS else float('inf'))
