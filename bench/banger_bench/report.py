"""What bench/run prints: the table (Markdown, as README.md shows it), the notes under
it, and the check that README.md's table has the budgets of budgets.py."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
from typing import TYPE_CHECKING

from .budgets import BATCH_PIDS, BUDGETS, BY_ROW

if TYPE_CHECKING:
    from .context import Measured
    from .rows_pkexec import PkexecBatch, PkexecSingle

HEAD = ['#', 'what', 'runs', 'banger-signal', 'compared with', 'result', 'budget', '']


def fmt_ns(ns: float) -> str:
    if abs(ns) < 1e6:
        return f'{ns / 1e3:.0f} µs'
    if abs(ns) < 1e9:
        return f'{ns / 1e6:.2f} ms'
    return f'{ns / 1e9:.2f} s'


def fmt_delta(ns: float) -> str:
    """A difference of two medians, with its sign (noise can make it negative)."""
    return ('+' if ns >= 0 else '-') + fmt_ns(abs(ns))


def machine() -> str:
    model = '?'
    try:
        with open('/proc/cpuinfo', encoding='utf-8') as f:
            for line in f:
                if line.startswith('model name'):
                    model = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return (f'machine: {len(os.sched_getaffinity(0))} CPUs ({model}), Linux '
            f'{platform.release()}, Python {platform.python_version()}')


def build_options(builddir: str) -> dict:
    r = subprocess.run(['meson', 'introspect', '--buildoptions', builddir], capture_output=True,
                       text=True, check=False)
    return {o['name']: o['value'] for o in json.loads(r.stdout)} if r.returncode == 0 else {}


def build_facts(opts: dict) -> str:
    return (f"build: buildtype={opts.get('buildtype')} optimization={opts.get('optimization')} "
            f"b_sanitize={opts.get('b_sanitize')} b_lto={opts.get('b_lto')}")


def markdown(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]

    def line(cells: list[str]) -> str:
        return '| ' + ' | '.join(c.ljust(w) for c, w in zip(cells, widths)) + ' |'
    return [line(rows[0]), '|' + '|'.join('-' * (w + 2) for w in widths) + '|',
            *(line(r) for r in rows[1:])]


def table(measured: list[Measured], quick: bool) -> list[str]:
    body = []
    for m in measured:
        b = BY_ROW[m.row]
        verdict = 'ok' if b.met(m.value) else \
            ('missed (not enforced: --quick)' if quick else 'MISSED')
        body.append([str(m.row), b.what, m.runs, m.ours, m.theirs, m.result, b.text, verdict])
    return markdown([HEAD, *body])


def budgets_table() -> list[str]:
    return markdown([['#', 'what', 'budget'], *([str(b.row), b.what, b.text] for b in BUDGETS)])


def notes(single: PkexecSingle, batch: PkexecBatch) -> list[str]:
    """Where the time of rows 2 and 3 goes, from the same run: the facts behind them."""
    limit = BY_ROW[2].limit
    return [
        'Where the time of rows 2 and 3 goes (same run, medians; not budgets):',
        f'- row 2: `pkexec /bin/true` {fmt_ns(single.true_ns)}; `pkexec banger-signal --version` '
        f'{fmt_ns(single.version_ns)} ({fmt_delta(single.version_ns - single.true_ns)}: pkexec '
        f'finds the gate action, execs and starts banger-signal); the TERM call '
        f'{fmt_ns(single.term_ns)} ({fmt_delta(single.term_ns - single.version_ns)} more: checks, '
        f'loading libpolkit-gobject-1 and GLib/GIO, bus connection, CheckAuthorization, signal, '
        f'exit). The budget allows {fmt_ns(limit * single.true_ns)}.',
        f'- row 3: one more target costs {fmt_ns(batch.per_target_pkexec_ns)} through pkexec and '
        f'{fmt_ns(batch.per_target_root_ns)} as root without polkit: '
        f'{fmt_ns(batch.polkit_ns)} per target is its polkit check (client and polkitd, which '
        f'answers one check at a time). So even a batch call that cost nothing but pkexec and '
        f'those checks would be at most {batch.ceiling:.1f}× faster than {BATCH_PIDS} single '
        f'calls here: {BATCH_PIDS} × {fmt_ns(batch.single_ns)} / (`pkexec /bin/true` '
        f'{fmt_ns(batch.true_ns)} + {BATCH_PIDS} × {fmt_ns(batch.polkit_ns)}), all measured '
        f'in row 3\'s rounds. That ceiling is what row 3 is judged against.',
    ]


def readme_problems(text: str) -> list[str]:
    """README.md's Performance table must have the rows, labels and budgets of BUDGETS."""
    section = re.search(r'^## Performance\n(.*?)(?=^## )', text, re.M | re.S)
    if not section:
        return ['README.md has no "## Performance" section']
    lines = [ln for ln in section.group(1).splitlines() if ln.startswith('|')]
    if len(lines) < 2:
        return ['the Performance section has no table']
    head = [c.strip() for c in lines[0].strip('|').split('|')]
    missing = [c for c in ('#', 'what', 'budget') if c not in head]
    if missing:
        return [f'the Performance table has no column {", ".join(missing)}']
    rows = [[c.strip() for c in ln.strip('|').split('|')] for ln in lines[2:]]
    got = [(r[head.index('#')], r[head.index('what')], r[head.index('budget')]) for r in rows]
    want = [(str(b.row), b.what, b.text) for b in BUDGETS]
    problems = []
    for g, w in zip(got, want):
        if g != w:
            problems.append(f'row {w[0]}: README says {g[1:]!r}, budgets.py says {w[1:]!r}')
    if len(got) != len(want):
        problems.append(f'README has {len(got)} rows, budgets.py {len(want)}')
    return problems
