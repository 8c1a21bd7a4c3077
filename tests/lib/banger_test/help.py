"""What `banger-signal --help` says, parsed: options, exit codes, signals, install record.

Used by the man page check (tests/man) and by the check of the exit-code table
(tests/lib/check_codes.py). A help text this parser cannot read is a failure
(SystemExit with FAIL: ...), never a silent pass.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

LONG_OPT = re.compile(r'(?<![\w-])--[A-Za-z0-9][A-Za-z0-9-]*')
SHORT_OPT = re.compile(r'(?<![\w-])-[A-Za-z0-9](?![\w-])')
METAVAR = re.compile(r'^[A-Z][A-Z0-9_]*$')


@dataclass
class HelpFacts:
    codes: dict[int, str]
    notes: list[str]                 # lines under the exit-code table
    options: dict[str, str | None]   # option -> value name (or None)
    signals: list[str]
    default_signal: str
    config_path: str                 # the install record the binary reads (--config's help)


def read_help(binary: str) -> str:
    r = subprocess.run([binary, '--help'], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise SystemExit(f'FAIL: {binary} --help exited {r.returncode}\n{r.stderr}')
    return r.stdout


def parse_help(text: str) -> HelpFacts:
    lines = text.split('\n')
    try:
        opt_start = lines.index('Options:') + 1
        code_start = lines.index('Exit codes:') + 1
    except ValueError as e:
        raise SystemExit(f'FAIL: --help lacks an "Options:" or "Exit codes:" section ({e})')

    options: dict[str, str | None] = {}
    for line in lines[opt_start:]:
        if not line.strip():
            break
        m = re.match(r'^ {2}(\S.*?)(?: {2,}\S.*)?$', line)
        if not m:
            continue  # a wrapped description
        column = m.group(1)
        words = column.replace(',', ' ').split()
        names = [w for w in words if LONG_OPT.fullmatch(w) or SHORT_OPT.fullmatch(w)]
        metavars = [w for w in words if METAVAR.match(w)]
        for n in names:
            options[n] = metavars[0] if metavars else None

    codes: dict[int, str] = {}
    notes: list[str] = []
    for line in lines[code_start:]:
        if not line.strip():
            break
        m = re.match(r'^\s*(\d+)\s+(\S.*)$', line)
        if m and not notes:
            code = int(m.group(1))
            if code in codes:
                raise SystemExit(f'FAIL: --help lists exit code {code} twice')
            codes[code] = ' '.join(m.group(2).split())
        else:
            notes.append(' '.join(line.split()))

    m = re.search(r'\(default ([A-Z0-9]+)\): ([A-Z0-9]+(?:, [A-Z0-9]+)*);', text)
    if not m:
        raise SystemExit('FAIL: cannot find "(default X): A, B, ...;" in the --signal help; '
                         'update tests/lib/banger_test/help.py if the help text changed on purpose')
    c = re.search(r'instead of (/\S+)', text)
    if not c:
        raise SystemExit('FAIL: cannot find "instead of /PATH" in the --config help; '
                         'update tests/lib/banger_test/help.py if the help text changed on purpose')
    return HelpFacts(codes, notes, options, m.group(2).split(', '), m.group(1), c.group(1))
