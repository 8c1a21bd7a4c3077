#!/usr/bin/env python3
"""The Python tests' exit-code table (banger_test/codes.py) must be the binary's.

  check_codes.py --binary BANGER_SIGNAL

Every code of `banger-signal --help` ("Exit codes:") is in the table with the same
meaning, word for word, and the table has no code the binary lacks. Then the check
makes sure it notices a drift (a code dropped, added, renumbered or reworded).
Exit 0 = pass, 1 = fail.
"""

from __future__ import annotations

import argparse
import sys

from banger_test import codes
from banger_test.help import parse_help, read_help


def problems(help_codes: dict[int, str], table=codes.TABLE) -> list[str]:
    out = []
    ours = {c.code: c for c in table}
    for code, meaning in sorted(help_codes.items()):
        if code not in ours:
            out.append(f'--help lists exit code {code} ("{meaning}"), banger_test/codes.py '
                       f'does not')
        elif ours[code].meaning != meaning:
            out.append(f'exit code {code} ({ours[code].name}): --help says "{meaning}", '
                       f'banger_test/codes.py says "{ours[code].meaning}"')
    for code, c in sorted(ours.items()):
        if code not in help_codes:
            out.append(f'banger_test/codes.py has exit code {code} ({c.name}), '
                       f'--help does not')
    return out


def drifted(help_codes: dict[int, str]) -> list[tuple[str, dict[int, str]]]:
    """Copies of --help's table that drifted; problems() must notice every one."""
    last = max(help_codes)
    dropped = {k: v for k, v in help_codes.items() if k != last}
    added = {**help_codes, last + 1: 'something new'}
    reworded = {**help_codes, last: 'formerly ' + help_codes[last]}
    renumbered = {(k + 1 if k == last else k): v for k, v in help_codes.items()}
    return [('a code dropped', dropped), ('a code added', added),
            ('a meaning reworded', reworded), ('a code renumbered', renumbered)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--binary', required=True)
    args = ap.parse_args()
    help_codes = parse_help(read_help(args.binary)).codes
    found = problems(help_codes)
    if found:
        print('FAIL: tests/lib/banger_test/codes.py has drifted from `banger-signal --help`:')
        for p in found:
            print(f'  - {p}')
        return 1
    print(f'ok: the {len(help_codes)} exit codes of --help are the table\'s, word for word')
    blind = [what for what, text in drifted(help_codes) if not problems(text)]
    if blind:
        print('FAIL: the check did not notice these drifts (self-test): ' + '; '.join(blind))
        return 1
    print('ok: self-test, every drifted copy of the table was noticed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
