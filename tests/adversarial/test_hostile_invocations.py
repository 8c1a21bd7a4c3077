#!/usr/bin/env python3
"""Hostile invocations of the real binary: an empty argv, timers and terminal
signals armed by the caller, closed stdio, a copy of the binary in a place
others could write. (Hostile arguments: test_hostile_arguments.py.)

The target of every call is a victim that blocks all signals and sits in the
service cgroup, so banger-signal would accept it: anything sent to it stays
pending in /proc/<pid>/status, and "nothing was signalled" is checked there.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from banger_test.codes import NOT_AUTHORIZED, NOT_MANAGED, OK, STILL_RUNNING, USAGE
from harness import RUN_TIMEOUT
import adversarial


class EmptyArgv(adversarial.Victimized):

    def exec_raw(self, *argv):
        if not self.exec_argv:
            self.skipTest("EXEC_ARGV helper not built")
        r = subprocess.run([self.exec_argv, self.bin, *argv], capture_output=True,
                           env=self.bs_env(), timeout=RUN_TIMEOUT)
        r.out, r.err, r.argv = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), argv
        return r

    def test_argc_zero(self):
        r = self.exec_raw()
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "")
        self.assertIn("empty argument vector", r.err)

    def test_empty_argv0_with_a_valid_call(self):
        # Everything after argv[0] would deliver TERM to the victim.
        r = self.exec_raw("", "--config", self.s.config, "--pid", str(self.target.pid), "--json")
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "")
        self.assertIn("empty argument vector", r.err)

    def test_empty_argv0_with_help(self):
        r = self.exec_raw("", "--help")
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "")

    def test_control_same_call_with_argv0(self):
        # The helper itself is not what refuses: with an argv[0] it delivers.
        self.expect_untouched = False
        r = self.exec_raw("banger-signal", "--config", self.s.config, "--pid", str(self.target.pid))
        self.assertExit(r, OK)
        self.assertReceived(self.target, signal.SIGTERM)


class AsyncSignals(adversarial.AdversarialTestCase):
    """The caller may own the terminal or arm timers and limits that survive exec:
    nothing of that may end the call between a signal sent and its report."""

    IGNORE_TERM = {"STANDIN_IGNORE_TERM": "1"}

    def test_interval_timer_armed_before_exec(self):
        # SIGALRM 300 ms after exec, in the middle of --kill-after's wait: it used to
        # kill the helper after TERM and before KILL, the report and the audit line.
        vm = self.vm(env=self.IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--kill-after", "1", "--json",
                          preexec_fn=lambda: signal.setitimer(signal.ITIMER_REAL, 0.3))
        out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, OK, err)
        obj = json.loads(out)
        self.assertEqual(obj["outcome"], "delivered")
        self.assertTrue(obj["escalated"], obj)
        self.assertDiedOf(vm, signal.SIGKILL)

    def test_interrupt_ends_a_wait_and_the_call_still_reports(self):
        # An admin's ^C (or a caller owning the terminal) during --wait: the wait
        # ends, the helper reports the target as still running (10), nothing more.
        vm = self.vm(env=self.IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--wait", "60", "--json")
        self._until_waiting(p)
        started = time.monotonic()
        os.kill(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=10)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(p.returncode, STILL_RUNNING, err)
        obj = json.loads(out)
        self.assertEqual(obj["outcome"], "still-running")
        self.assertIn("SIGINT ended the wait", obj["reason"])
        self.assertAlive(vm)

    def test_terminal_signals_during_the_wait_do_not_kill(self):
        victim = self.victim(cgroup=self.s.service)   # blocks every signal: the wait runs out
        for sig in (signal.SIGQUIT, signal.SIGHUP, signal.SIGTSTP, signal.SIGALRM, signal.SIGXCPU, signal.SIGPIPE):
            with self.subTest(sig=sig.name):
                p = self.start_bs("--pid", victim.pid, "--signal", "USR1", "--wait", "1", "--json")
                self._until_waiting(p)
                os.kill(p.pid, sig)
                out, err = p.communicate(timeout=10)
                if sig in (signal.SIGQUIT, signal.SIGHUP):   # interrupts: the wait ends
                    self.assertEqual(p.returncode, STILL_RUNNING, err)
                    self.assertIn(f"{sig.name} ended the wait", json.loads(out)["reason"])
                else:                                         # others: held, the wait runs out
                    self.assertEqual(p.returncode, STILL_RUNNING, err)
                    self.assertIn("still running 1000 ms after USR1", json.loads(out)["reason"])

    def _until_waiting(self, p):
        """Until the helper sits in its wait: blocked in poll(2) (x86-64 syscall 7) with
        no other thread (without polkit there is none)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{p.pid}/syscall", encoding="ascii") as f:
                    if f.read().split(" ", 1)[0] == "7":
                        return
            except OSError:
                pass
            time.sleep(0.005)
        self.fail("the helper never reached its wait")


class ClosedStdio(adversarial.Victimized):

    def run_closed(self, *args, closed=(0, 1, 2), pass_fds=()):
        argv = [self.bin, "--config", self.s.config, *[str(a) for a in args]]
        p = subprocess.Popen(argv, env=self.bs_env(), pass_fds=pass_fds,
                             preexec_fn=lambda: [os.close(n) for n in closed])
        return p.wait(timeout=RUN_TIMEOUT)

    def test_delivers_with_all_closed(self):
        self.expect_untouched = False
        fd, path = self.canary()
        rc = self.run_closed("--pid", self.target.pid, "--json", "--verbose", pass_fds=(fd,))
        self.assertEqual(rc, OK)
        self.assertReceived(self.target, signal.SIGTERM)
        self.assertEqual(os.path.getsize(path), 0, "output landed in an inherited file")

    def test_refusal_with_all_closed(self):
        foreign = self.victim(cgroup=self.s.foreign)
        fd, path = self.canary()
        rc = self.run_closed("--pid", foreign.pid, "--json", "--verbose", pass_fds=(fd,))
        self.assertEqual(rc, NOT_MANAGED)
        self.assertUntouched(foreign)
        self.assertEqual(os.path.getsize(path), 0)

    def test_usage_error_with_all_closed(self):
        self.assertEqual(self.run_closed("--pid", "x", "--json"), USAGE)

    def test_each_one_closed(self):
        # Only one of them closed: the lowest free fd is that one. The two
        # left open are files of ours: JSON only ever on stdout.
        for n in (0, 1, 2):
            with self.subTest(closed=n):
                d = self.s.fresh_dir("stdio-")
                with open(os.path.join(d, "out"), "w+b") as out, open(os.path.join(d, "err"), "w+b") as err:
                    argv = [self.bin, "--config", self.s.config, "--pid", str(self.target.pid),
                            "--dry-run", "--json", "--verbose"]
                    p = subprocess.Popen(argv, env=self.bs_env(), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err, preexec_fn=lambda: os.close(n))
                    self.assertEqual(p.wait(timeout=RUN_TIMEOUT), OK)
                    out.seek(0)
                    err.seek(0)
                    stdout, stderr = out.read(), err.read()
                if n != 1:
                    lines = stdout.decode().splitlines()
                    self.assertEqual(len(lines), 1, stdout)
                    self.assertEqual(json.loads(lines[0])["outcome"], "would-deliver")
                else:
                    self.assertEqual(stdout, b"")
                self.assertNotIn(b'"outcome"', stderr if n != 2 else b"", "JSON on stderr")


class WritableLocation(adversarial.Victimized):
    """Root must not run a binary that someone else could have replaced: the
    binary and every directory above it belong to root and are not writable by
    group or others (a sticky directory like /tmp is fine)."""

    def copy_binary(self, dir_mode, file_mode=0o755, owner=None):
        base = tempfile.mkdtemp(prefix="banger-loc-", dir="/tmp")
        self.addCleanup(shutil.rmtree, base, True)
        os.chmod(base, dir_mode)
        dest = os.path.join(base, "banger-signal")
        shutil.copy2(self.bin, dest)
        os.chmod(dest, file_mode)
        if owner is not None:
            os.chown(dest, owner, owner)
        return dest

    def run_copy(self, path, *args):
        saved, self.bin = self.bin, path
        try:
            return self.run_bs(*args)
        finally:
            self.bin = saved

    def assertRefusedLocation(self, path, why):
        r = self.run_copy(path, "--pid", self.target.pid, "--json")
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertIn("refusing to run privileged", r.err, self.describe(r))
        self.assertIn(why, json.loads(r.out.splitlines()[0])["reason"], self.describe(r))

    def test_world_writable_directory(self):
        self.assertRefusedLocation(self.copy_binary(0o777), "writable by group or others")

    def test_group_writable_binary(self):
        self.assertRefusedLocation(self.copy_binary(0o755, file_mode=0o775), "writable by group or others")

    def test_binary_owned_by_another_user(self):
        self.assertRefusedLocation(self.copy_binary(0o755, owner=65534), "owned by uid 65534")

    def test_control_root_owned_directory_below_sticky_tmp(self):
        self.expect_untouched = False
        r = self.run_copy(self.copy_binary(0o755), "--pid", self.target.pid)
        self.assertExit(r, OK)
        self.assertReceived(self.target, signal.SIGTERM)


if __name__ == "__main__":
    adversarial.main()
