"""Running and timing one command: the same code for both sides of every comparison."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

from banger_test import codes


class BenchError(RuntimeError):
    """The benchmark could not measure what it meant to (not a missed budget)."""


_DEVNULL = os.open(os.devnull, os.O_RDWR)


def timed(argv: list[str], stdout: int | None = None, **popen_kw) -> tuple[int, int]:
    """(nanoseconds from spawn to reaped, exit code) of one run, output discarded
    (or written to the file `stdout`).

    subprocess's spawn with close_fds and one wait4, for both sides of every
    comparison. The exit code is judged by the caller, outside the timed section.
    """
    out = _DEVNULL if stdout is None else stdout
    start = time.perf_counter_ns()
    p = subprocess.Popen(argv, stdin=_DEVNULL, stdout=out, stderr=_DEVNULL, close_fds=True,
                         **popen_kw)
    _, status, _ = os.wait4(p.pid, 0)
    elapsed = time.perf_counter_ns() - start
    p.returncode = os.waitstatus_to_exitcode(status)   # reaped: Popen must not wait again
    return elapsed, p.returncode


def run_checked(argv: list[str], expect: int = 0, **popen_kw) -> subprocess.CompletedProcess:
    """Run once with output captured; a wrong exit code is a BenchError naming the command."""
    popen_kw.setdefault('stdin', subprocess.DEVNULL)
    r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300,
                       **popen_kw)
    if r.returncode != expect:
        raise BenchError(f'{" ".join(argv)[:300]}: exit {r.returncode}, expected {expect}\n'
                         f'  stdout: {r.stdout.strip()[:2000]}\n  stderr: {r.stderr.strip()[:2000]}')
    return r


@dataclass
class Command:
    """One side of a comparison: argv, how to start it, the exit code it must end with."""
    argv: list[str]
    popen: dict = field(default_factory=dict)
    expect: int | None = 0     # None: any code of banger-signal's contract

    def once(self, stdout: int | None = None) -> int:
        """One timed run, in nanoseconds; an unexpected exit code is a BenchError."""
        ns, rc = timed(self.argv, stdout=stdout, **self.popen)
        self.check(rc)
        return ns

    def check(self, rc: int) -> None:
        if self.expect is None:
            if rc not in codes.CONTRACT_CODES:
                raise BenchError(f'{" ".join(self.argv)[:300]}: exit {rc}, not a code of the '
                                 f'contract')
            return
        if rc != self.expect:
            # Rerun it with output captured: raises with the command's own words.
            run_checked(self.argv, self.expect, **self.popen)
            raise BenchError(f'{" ".join(self.argv)[:300]}: exit {rc} once (expected '
                             f'{self.expect}), then {self.expect}')


def alternate(n: int, sides: list[Callable[[], int]]) -> list[list[int]]:
    """n samples of each side, alternating, with the order reversed every other round."""
    samples: list[list[int]] = [[] for _ in sides]
    order = list(range(len(sides)))
    for i in range(n):
        for k in (order if i % 2 == 0 else reversed(order)):
            samples[k].append(sides[k]())
    return samples


def median(xs: list[int] | list[float]) -> float:
    return float(statistics.median(xs))


_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
PR_SET_CHILD_SUBREAPER = 36


def peak_rss_kib(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """(ru_maxrss in KiB, exit code) of argv, measured without our own memory in it.

    exec() records the high-water mark of the address space it replaces, and subprocess's
    vfork'd child shares ours (~20 MB of Python): a child spawned from here reports at least
    that. So a small shell forks a subshell and exits; the subshell, now our orphan (we are
    child subreaper), waits on a pipe until we have reaped the shell, then execs argv, and we
    take its rusage with wait4. (Without the pipe a fast program could exit first and be
    reaped by the shell, rusage and all.)
    """
    r, w = os.pipe()
    if _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise BenchError(f'prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(ctypes.get_errno())}')
    try:
        script = 'exec 3<&0 </dev/null; { read x <&3; exec "$@" 3<&-; } >/dev/null 2>&1 & echo $!'
        try:
            out = run_checked(['/bin/sh', '-c', script, 'sh', *argv], env=env, stdin=r).stdout
        finally:
            os.close(r)
        pid = int(out.strip())
        os.close(w)   # the subshell's read ends: it execs argv
        w = -1
        _, status, usage = os.wait4(pid, 0)
    finally:
        if w >= 0:
            os.close(w)
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    return usage.ru_maxrss, os.waitstatus_to_exitcode(status)
