"""Shared pieces of the adversarial tests (tests/adversarial/test_*.py).

Builds on tests/integration/harness.py (per-run cgroups, temp dir, spawning,
run_bs); adds what attacking banger-signal needs:

  * a victim that blocks every signal it can, so that a signal sent to it
    stays pending and shows in /proc/<pid>/status (SigPnd/ShdPnd) instead of
    racing with a handler: "never received anything" becomes a hard check;
  * the pause points of banger-signal-testhooks (BANGER_TEST_PAUSE), driven
    through two FIFOs opened O_RDWR so that neither side can block forever;
  * helpers for /proc/<pid>/status and /proc/<pid>/fd.

Environment (set by tests/adversarial/meson.build), besides harness.py's:
  BANGER_TESTHOOKS  banger-signal-testhooks (only with -Dtest_hooks=true)
  EXEC_ARGV         the exec-argv helper (execve with an exact argv)
  PYTHONPATH        tests/lib (banger_test) and tests/integration (harness.py)
"""

import os
import signal
import sys
import time

from banger_test import codes, procfs
from banger_test.pause import Pause  # re-exported for pidns_driver and the test files
import harness  # tests/integration (PYTHONPATH); re-exported for the test files

SKIP_EXIT = harness.SKIP_EXIT

# MAX_ARG_STRLEN: the kernel refuses any single argument longer than 32 pages
# (131072 bytes with its NUL) with E2BIG, so 1 MiB can only arrive in pieces.
MAX_ARG = 32 * 4096 - 1

# CAP_DAC_READ_SEARCH (2), CAP_KILL (5), CAP_SYS_PTRACE (19).
EXPECTED_CAPS = (1 << 2) | (1 << 5) | (1 << 19)

# The victim: blocks every signal (the kernel silently keeps KILL and STOP
# deliverable), says ready on STANDIN_READY_FD (harness.spawn's protocol) and
# sleeps. With "--thread FILE" it first starts a thread (which inherits the
# mask) and writes the thread's id into FILE.
VICTIM_SOURCE = r"""
import os, signal, sys, threading, time
signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
if len(sys.argv) > 2 and sys.argv[1] == "--thread":
    ev = threading.Event()
    t = threading.Thread(target=ev.wait, daemon=True)
    t.start()
    with open(sys.argv[2], "w") as f:
        f.write(str(t.native_id))
fd = int(os.environ["STANDIN_READY_FD"])
os.write(fd, b"ready\n")
os.close(fd)
while True:
    time.sleep(3600)
"""


def victim_argv(*extra):
    return [sys.executable, "-c", VICTIM_SOURCE, *extra]


def read_status(pid, tid=None):
    """/proc/<pid>/status (or a thread's) as a dict; None once it is gone."""
    path = f"/proc/{pid}/status" if tid is None else f"/proc/{pid}/task/{tid}/status"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    status = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        status[key] = value.strip()
    return status


def mask_signals(hex_mask):
    """Signal numbers set in a /proc status mask such as SigPnd."""
    bits = int(hex_mask, 16)
    return {n + 1 for n in range(64) if bits & (1 << n)}


def pending_signals(pid):
    """Every signal pending for the process or any of its threads."""
    pending = set()
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return pending
    for tid in tids:
        status = read_status(pid, tid)
        if status is None:
            continue
        pending |= mask_signals(status["SigPnd"]) | mask_signals(status["ShdPnd"])
    return pending


def fd_table(pid):
    """{fd number: link target} of /proc/<pid>/fd."""
    table = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            table[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except FileNotFoundError:
            pass
    return table


NO_TESTHOOKS = "no banger-signal-testhooks (configure with -Dtest_hooks=true)"


def testhooks_path():
    """banger-signal-testhooks, or None when the build has no test hooks."""
    path = os.environ.get("BANGER_TESTHOOKS")
    return path if path and os.access(path, os.X_OK) else None


def testhooks_or_skip():
    """banger-signal-testhooks, or exit 77 (the whole file) without test hooks."""
    path = testhooks_path()
    if path is None:
        print(f"SKIP: {NO_TESTHOOKS}", file=sys.stderr)
        sys.exit(SKIP_EXIT)
    return path


class AdversarialTestCase(harness.BangerTestCase):
    """harness.BangerTestCase plus victims, paused runs and status checks."""

    def victim(self, cgroup=None, thread_file=None):
        """A process that blocks all signals; see VICTIM_SOURCE."""
        extra = ("--thread", thread_file) if thread_file else ()
        p = self.spawn(victim_argv(*extra), cgroup=cgroup)
        # Precondition of every "received nothing" check: all is blocked.
        blocked = mask_signals(read_status(p.pid)["SigBlk"])
        self.assertTrue({signal.SIGTERM, signal.SIGUSR1, signal.SIGHUP} <= blocked,
                        f"victim {p.pid} does not block signals: {blocked}")
        return p

    def victim_with_thread(self, cgroup=None):
        """A victim with a second thread (same mask): (Popen, the thread's id)."""
        tid_file = os.path.join(self.s.fresh_dir("tid-"), "tid")
        p = self.victim(cgroup=cgroup, thread_file=tid_file)
        with open(tid_file) as f:
            return p, int(f.read())

    def canary(self):
        """An open file of ours, inherited by a child unless it closes it: (fd, path)."""
        path = os.path.join(self.s.fresh_dir("canary-"), "canary")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self.addCleanup(os.close, fd)
        return fd, path

    def assertUntouched(self, p, why=""):
        """Alive, not stopped, and no signal pending: nothing was sent to it."""
        self.assertAlive(p, why)
        status = read_status(p.pid)
        self.assertIsNotNone(status, f"pid {p.pid} is gone {why}")
        self.assertEqual(status["State"][0], "S", f"pid {p.pid} state {status['State']} {why}")
        pending = pending_signals(p.pid)
        self.assertEqual(pending, set(), f"pid {p.pid} received signal(s) "
                         f"{sorted(signal.Signals(s).name for s in pending)} {why}")

    def assertReceived(self, p, sig, why=""):
        """The victim has `sig` pending (it was sent, and nothing else was)."""
        deadline = time.monotonic() + 5
        while sig not in pending_signals(p.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(pending_signals(p.pid), {sig}, f"pid {p.pid} {why}")

    def start_paused(self, binary, point, *args, config="default", **popen):
        """Start `binary [--config C] ARGS` and wait until it pauses at `point`.

        Returns (Popen, Pause); the process is killed at cleanup if still there.
        """
        pause = Pause(self.s.fresh_dir("pause-"), point)
        self.addCleanup(pause.close)
        p = self.start_bs(*args, config=config, binary=binary, env=pause.env, **popen)
        pause.wait(p)
        return p, pause

    def finish(self, p, pause):
        """Resume a paused run; return an object like run_bs's result."""
        pause.resume()
        return self.finish_bs(p)

    def reap_killed(self, p):
        """SIGKILL a child of ours and reap it: its pid is free afterwards."""
        p.kill()
        p.wait(timeout=10)
        self.assertFalse(procfs.pid_exists(p.pid))


class Victimized(AdversarialTestCase):
    """One accepted, signal-blocking victim per test."""

    def setUp(self):
        super().setUp()
        self.target = self.victim(cgroup=self.s.service)
        self.exec_argv = os.environ.get("EXEC_ARGV")

    def tearDown(self):
        # Every test ends with the victim untouched unless it says otherwise.
        if getattr(self, "expect_untouched", True):
            self.assertUntouched(self.target, f"after {self.id()}")

    def usage(self, *args, **kw):
        r = self.run_bs(*args, **kw)
        self.assertExit(r, codes.USAGE)
        self.assertEqual(r.out, "", f"usage errors print nothing on stdout: {self.describe(r)}")
        return r


def main():
    harness.main()
