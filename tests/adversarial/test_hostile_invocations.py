#!/usr/bin/env python3
"""Hostile invocations of the real binary: odd argv, closed stdio, huge and
garbage arguments, every option twice, malformed pids.

The target of every call is a victim that blocks all signals and sits in the
service cgroup, so banger-signal would accept it: anything sent to it stays
pending in /proc/<pid>/status, and "nothing was signalled" is checked there.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata

from banger_test.codes import (CONFIG_ERROR, CONTRACT_CODES, NOT_AUTHORIZED, NOT_MANAGED, OK,
                               SIGNAL_REFUSED, STILL_RUNNING, USAGE)
import adversarial

# MAX_ARG_STRLEN: the kernel refuses any single argument longer than 32 pages
# (131072 bytes with its NUL) with E2BIG, so 1 MiB can only arrive in pieces.
MAX_ARG = 32 * 4096 - 1


class Victimized(adversarial.AdversarialTestCase):
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
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "", f"usage errors print nothing on stdout: {self.describe(r)}")
        return r


class EmptyArgv(Victimized):

    def exec_raw(self, *argv):
        if not self.exec_argv:
            self.skipTest("EXEC_ARGV helper not built")
        r = subprocess.run([self.exec_argv, self.bin, *argv], capture_output=True,
                           env=self.bs_env(), timeout=adversarial.harness.RUN_TIMEOUT)
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

    def start_bs(self, *args, preexec_fn=None):
        argv = [self.bin, "--config", self.s.config, *[str(a) for a in args]]
        return subprocess.Popen(argv, env=self.bs_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, preexec_fn=preexec_fn)

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


class ClosedStdio(Victimized):

    def run_closed(self, *args, closed=(0, 1, 2), pass_fds=()):
        argv = [self.bin, "--config", self.s.config, *[str(a) for a in args]]
        p = subprocess.Popen(argv, env=self.bs_env(), pass_fds=pass_fds,
                             preexec_fn=lambda: [os.close(n) for n in closed])
        return p.wait(timeout=adversarial.harness.RUN_TIMEOUT)

    def canary(self):
        path = os.path.join(self.s.fresh_dir("canary-"), "canary")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        self.addCleanup(os.close, fd)
        return fd, path

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
                    self.assertEqual(p.wait(timeout=adversarial.harness.RUN_TIMEOUT), OK)
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


class HugeArguments(Victimized):

    def test_100000_pids(self):
        # Documented: more than 4096 pids is a usage error; nothing is sent.
        args = ["--pid", self.target.pid] + [f"--pid={n}" for n in range(2, 100001)]
        r = self.usage(*args)
        self.assertIn("too many pids", r.err)

    def test_100000_positional_arguments(self):
        self.usage("--pid", self.target.pid, *(["x"] * 99998))

    def test_100000_repeated_flags(self):
        # Flags are idempotent: 100 000 of them mean what one means.
        self.expect_untouched = False
        r = self.run_bs("--pid", self.target.pid, *(["--json"] * 99997))
        self.assertExit(r, OK)
        self.assertEqual(len(self.json_lines(r)), 1)
        self.assertReceived(self.target, signal.SIGTERM)

    def test_1mib_single_argument_is_refused_by_the_kernel(self):
        # Precondition of the tests below: a 1 MiB argument cannot be passed.
        with self.assertRaises(OSError) as cm:
            subprocess.run([self.bin, "--pid", "1" * (1 << 20)], timeout=30)
        self.assertEqual(cm.exception.errno, errno.E2BIG)

    def test_largest_single_pid_argument(self):
        self.usage("--pid", "1" * MAX_ARG)
        self.usage(f"--pid={self.target.pid}{'0' * (MAX_ARG - 20)}")
        self.usage("--pid", self.target.pid, "--pid", "0" * (MAX_ARG - 8) + str(self.target.pid))

    def test_largest_single_signal_argument(self):
        r = self.run_bs("--pid", self.target.pid, "--signal", "TERM" + "M" * (MAX_ARG - 4), "--json")
        self.assertExit(r, SIGNAL_REFUSED)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "signal-refused")

    def test_largest_single_config_argument(self):
        r = self.run_bs("--pid", self.target.pid, "--config", "/" + "c" * (MAX_ARG - 1), config=None)
        self.assertIn(r.returncode, (USAGE, CONFIG_ERROR), self.describe(r))

    def test_largest_single_wait_argument(self):
        self.usage("--pid", self.target.pid, "--wait", "1" * MAX_ARG)
        self.usage("--pid", self.target.pid, "--kill-after", "0." + "0" * (MAX_ARG - 3) + "1")

    def test_1mib_in_eight_arguments(self):
        self.usage("--pid", self.target.pid, *(["y" * MAX_ARG] * 8))
        self.usage("--pid", self.target.pid, *(["--signal=" + "K" * (MAX_ARG - 9)] * 8))


class Garbage(Victimized):
    """Random NUL-free bytes where banger-signal expects text."""

    SEED = 20261130
    ROUNDS = 150

    def garbage(self, rng):
        """1 to 4096 random bytes, never NUL, never a plain number (which
        would be a valid pid or duration, not garbage)."""
        while True:
            n = rng.choice((1, 2, 8, 64, 1000, 4096))
            g = bytes(rng.randrange(1, 256) for _ in range(n))
            if g.strip(b"0123456789."):
                return g

    def run_raw(self, *args):
        argv = [self.bin.encode(), b"--config", self.s.config.encode(), *args]
        r = subprocess.run(argv, env=self.bs_env(), stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=adversarial.harness.RUN_TIMEOUT)
        r.out, r.err, r.argv = r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), argv
        self.assertIn(r.returncode, CONTRACT_CODES, self.describe(r))
        return r

    def test_garbage(self):
        rng = random.Random(self.SEED)
        pid = str(self.target.pid).encode()
        for i in range(self.ROUNDS):
            g = self.garbage(rng)
            cases = [
                ((b"--pid", pid, g), {USAGE}),
                ((b"--pid=" + g,), {USAGE}),
                ((b"--pid", pid, b"--signal=" + g), {USAGE, SIGNAL_REFUSED}),
                ((b"--pid", pid, b"--wait=" + g), {USAGE}),
                ((b"--pid", pid, b"--kill-after=" + g), {USAGE}),
                ((b"--pid", pid, b"--dry-run", g + b"=" + g), {USAGE}),
            ]
            for args, allowed in cases:
                with self.subTest(seed=self.SEED, round=i, args=args[-1][:40]):
                    r = self.run_raw(*args)
                    self.assertIn(r.returncode, allowed, self.describe(r))
        self.assertUntouched(self.target)

    def test_garbage_config_path(self):
        rng = random.Random(self.SEED + 1)
        pid = str(self.target.pid).encode()
        for i in range(self.ROUNDS // 3):
            g = self.garbage(rng)
            with self.subTest(round=i):
                r = subprocess.run([self.bin.encode(), b"--pid", pid, b"--config=" + g],
                                   env=self.bs_env(), capture_output=True, timeout=30)
                # Config errors (8), or 2 if the parser rejected the value.
                self.assertIn(r.returncode, (USAGE, CONFIG_ERROR),
                              r.stderr[:300])


class EveryOptionTwice(Victimized):

    def test_value_options_twice_are_usage_errors(self):
        pid = self.target.pid
        for args in (["--signal", "TERM", "--signal", "TERM"],
                     ["--signal", "USR1", "--signal=KILL"],
                     ["--wait", "1", "--wait", "1"],
                     ["--kill-after", "1", "--kill-after", "2"],
                     ["--pid", pid]):  # the same pid again
            with self.subTest(args=args):
                self.usage("--pid", pid, *args)
        with self.subTest(args="--config twice"):
            r = self.run_bs("--config", self.s.config, "--pid", pid)
            self.assertExit(r, USAGE)

    def test_flags_twice_mean_once(self):
        pid = self.target.pid
        r = self.run_bs("--pid", pid, "--dry-run", "--dry-run", "--json", "--json",
                        "--verbose", "--verbose")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "would-deliver")
        self.assertTrue(obj["dry_run"])
        self.assertUntouched(self.target, "(--dry-run twice)")

    def test_list_twice(self):
        once = self.run_bs("--list", "--json")
        twice = self.run_bs("--list", "--list", "--json", "--json")
        self.assertExit(once, OK)
        self.assertExit(twice, OK)
        pids = [o["pid"] for o in self.json_lines(twice)]
        self.assertIn(self.target.pid, pids)
        self.assertEqual(pids.count(self.target.pid), 1)

    def test_doctor_help_version_twice(self):
        self.usage("--doctor", "--doctor", config=None)
        for flag in ("--help", "--version"):
            with self.subTest(flag=flag):
                r = self.run_bs(flag, flag, config=None)
                self.assertExit(r, OK)
                self.assertEqual(r.out, self.run_bs(flag, config=None).out)

    def test_exclusive_modes_together(self):
        pid = self.target.pid
        self.usage("--list", "--pid", pid)
        self.usage("--pid", pid, "--wait", "1", "--kill-after", "1")
        self.usage("--list", "--dry-run")
        self.usage("--doctor", "--pid", pid, config=None)


def unicode_digit_forms(pid):
    """`pid` written with the decimal digits of every other script."""
    forms = {}
    for cp in range(0x80, 0x110000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Nd" and unicodedata.decimal(ch) == 0:
            zero = cp
            forms[unicodedata.name(ch, hex(cp))] = "".join(chr(zero + int(d)) for d in pid)
    return forms


def malformed_pids(pid):
    """Spellings that a lenient parser (strtol, stoi, int()) reads as `pid`."""
    p = str(pid)
    values = [
        "", " ", "+" + p, "-" + p, "++" + p, "+-" + p, "--" + p,
        " " + p, p + " ", "\t" + p, p + "\t", "\n" + p, p + "\n", "\r" + p, p + "\r",
        "\v" + p, "\f" + p, "\u00a0" + p, p + "\u200b", "\u2007" + p,
        "0" + p, "00" + p, "0" * 1000 + p,
        hex(pid), hex(pid).upper().replace("X", "x"), "0X" + format(pid, "x"), format(pid, "x") + "h",
        "0" + format(pid, "o"), "0o" + format(pid, "o"), "0b" + format(pid, "b"),
        p + "e0", f"{pid / 10}e1", p + ".0", p + ".", "." + p, p + ",0", f"{pid:,}", f"{pid:_}",
        p + "L", p + "u", p + "n", p + "%", "$" + p, p + ";", p + "\x7f", p + "\x1b[0m",
        str(pid + 2 ** 32), str(pid + 2 ** 64), str(pid - 2 ** 32), str(pid + 2 ** 31 * 4),
        "4294967295", "18446744073709551615", "9" * 100, "1" * 10000,
        "=" + p, p + "=", p + "\u0000"[:0] + "x", "NaN", "inf", "-0", "+0",
        p + "\u0301", "\ufeff" + p, "\u202e" + p, p.join("  "),
    ]
    values += [c.join([p[:1], p[1:]]) for c in (" ", "_", ",", "'", ".") if len(p) > 1]
    values += list(unicode_digit_forms(p).values())
    values += ["".join(chr(0xFF10 + int(d)) if i % 2 else d for i, d in enumerate(p))]  # mixed
    values += ["".join(chr(0x2070 + int(d)) if d not in "123" else "\u00b9\u00b2\u00b3"[int(d) - 1]
                       for d in p)]  # superscripts: digits, but not decimal
    # f"{pid:,}" and f"{pid:_}" have no separator below 1000: that is the plain
    # spelling, which must deliver, not a malformed one.
    return [v for v in dict.fromkeys(values) if v != p]


class MalformedPids(Victimized):

    def test_malformed_spellings_of_the_victims_pid(self):
        values = malformed_pids(self.target.pid)
        self.assertGreater(len(values), 100)
        for value in values:
            forms = [[f"--pid={value}"]]
            if not value.startswith("-"):
                forms.append(["--pid", value])
            for form in forms:
                with self.subTest(form=form):
                    r = self.usage(*form, "--json")
                    self.assertNotEqual(r.err, "", "a usage error says what is wrong")
        # Every spelling above was refused; the victim never heard of it.
        self.assertUntouched(self.target, "after the malformed pids")

    def test_malformed_after_a_valid_pid(self):
        # One malformed pid fails the whole call before anything is sent.
        for value in ("+1", " 2", "0x3", "５"):
            with self.subTest(value=value):
                self.usage("--pid", self.target.pid, f"--pid={value}")

    def test_control_the_plain_spelling_delivers(self):
        self.expect_untouched = False
        r = self.run_bs("--pid", self.target.pid)
        self.assertExit(r, OK)
        self.assertReceived(self.target, signal.SIGTERM)


class WritableLocation(Victimized):
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
