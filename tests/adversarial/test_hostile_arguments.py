#!/usr/bin/env python3
"""Hostile arguments: huge ones, up to what the kernel passes, random garbage,
every option twice, and malformed spellings of a pid.

The target of every call is a victim that blocks all signals and sits in the
service cgroup, so banger-signal would accept it: anything sent to it stays
pending in /proc/<pid>/status, and "nothing was signalled" is checked there.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import errno
import random
import signal
import subprocess
import unicodedata

from banger_test.codes import CONFIG_ERROR, CONTRACT_CODES, OK, SIGNAL_REFUSED, USAGE
import harness
from harness import RUN_TIMEOUT
import adversarial
from adversarial import MAX_ARG


class HugeArguments(adversarial.Victimized):

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


class Garbage(adversarial.Victimized):
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
                           capture_output=True, timeout=RUN_TIMEOUT)
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


class EveryOptionTwice(adversarial.Victimized):

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


class MalformedPids(adversarial.Victimized):

    def test_malformed_spellings_of_the_victims_pid(self):
        values = malformed_pids(self.target.pid)
        self.assertGreater(len(values), 100)
        for value in values:
            for form in harness.option_forms("--pid", value):
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


if __name__ == "__main__":
    adversarial.main()
