"""banger-signal's exit codes, as the Python tests and bench/run name them.

The contract is banger-signal(8) (man/banger-signal.8.in, EXIT STATUS); the binary
prints the same table under "Exit codes:" in --help. This module is the one copy
the Python side keeps, and tests/lib/check_codes.py (meson suite "contract")
fails when it differs from the binary's --help in any code or meaning.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Code:
    code: int
    name: str      # the constant below
    outcome: str   # the "outcome" field of --json
    meaning: str   # the line of --help's "Exit codes:" table, verbatim


TABLE = (
    Code(0, 'OK', 'delivered', 'delivered (with --dry-run: would be delivered)'),
    Code(2, 'USAGE', 'usage-error', 'usage error (bad option, malformed pid, too many pids)'),
    Code(3, 'NO_PROCESS', 'no-such-process', 'no such process (or it exited before delivery)'),
    Code(4, 'NOT_MANAGED', 'not-managed', 'refused: target is not a banger-managed VM'),
    Code(5, 'SIGNAL_REFUSED', 'signal-refused', 'refused: signal not allowed'),
    Code(6, 'PROTECTED', 'protected',
         'refused: protected process (pid 0 or 1, banger-signal, its caller, a kernel thread, '
         "the service's own process)"),
    Code(7, 'NOT_AUTHORIZED', 'not-authorized', 'not authorized'),
    Code(8, 'CONFIG_ERROR', 'config-error', 'configuration error'),
    Code(9, 'SYSTEM_ERROR', 'system-error', 'system error'),
    Code(10, 'STILL_RUNNING', 'still-running', 'still running after a wait'),
)

OK, USAGE, NO_PROCESS, NOT_MANAGED, SIGNAL_REFUSED = 0, 2, 3, 4, 5
PROTECTED, NOT_AUTHORIZED, CONFIG_ERROR, SYSTEM_ERROR, STILL_RUNNING = 6, 7, 8, 9, 10

# Every code banger-signal may exit with; anything else (a crash, 1, 126, 127) is a bug.
CONTRACT_CODES = frozenset(c.code for c in TABLE)
# The "outcome" names of --json: one per code, and "would-deliver" for 0 under --dry-run.
OUTCOMES = frozenset(c.outcome for c in TABLE) | {'would-deliver'}

# Not banger-signal's: pkexec's own refusal (no authorization), which the
# self-elevating call maps to NOT_AUTHORIZED.
PKEXEC_NOT_AUTHORIZED = 127
# Not banger-signal's: what a test exits with to tell meson it was skipped.
SKIP = 77


def meaning(code: int) -> str:
    """'4 (refused: ...)' for messages; an unknown code says so."""
    for c in TABLE:
        if c.code == code:
            return f'{code} ({c.meaning})'
    return f'{code} (not an exit code of banger-signal)'


def _check_constants() -> None:
    """The names above and the table agree (a typo here would mislead every test)."""
    for c in TABLE:
        if globals()[c.name] != c.code:
            raise AssertionError(f'codes.{c.name} is {globals()[c.name]}, the table says {c.code}')


_check_constants()
