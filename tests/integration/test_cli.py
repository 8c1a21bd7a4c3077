#!/usr/bin/env python3
"""Batches, --dry-run, --json, --verbose, and the command line itself."""

import os
import signal

from banger_test import codes
from banger_test.codes import NOT_MANAGED, NO_PROCESS, OK, USAGE
import harness

JSON_TYPES = {
    "pid": (int,), "signal": (str,), "code": (int,), "outcome": (str,),
    "match": (str, type(None)), "reason": (str,), "dry_run": (bool,),
    "cgroup": (str, type(None)), "exe": (str, type(None)), "api_sock": (str, type(None)),
}
# Every outcome a JSON line may carry (usage errors print no JSON).
OUTCOMES = codes.OUTCOMES - {"usage-error"}


class Batch(harness.BangerTestCase):

    def test_good_foreign_missing(self):
        missing = self.reaped_pid()
        good, foreign = self.vm(), self.vm(cgroup=self.s.foreign)
        r = self.run_bs("--pid", good.pid, "--pid", foreign.pid, "--pid", missing, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertDiedOf(good, signal.SIGTERM)
        self.assertAlive(foreign)
        objs = self.json_lines(r)
        self.assertEqual([(o["pid"], o["code"]) for o in objs],
                         [(good.pid, OK), (foreign.pid, NOT_MANAGED), (missing, NO_PROCESS)])
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r.err)
        self.assertTrue(lines[0].startswith(f"banger-signal: pid {foreign.pid}: "), lines)
        self.assertTrue(lines[1].startswith(f"banger-signal: pid {missing}: "), lines)

    def test_missing_then_foreign(self):
        missing = self.reaped_pid()
        foreign = self.vm(cgroup=self.s.foreign)
        r = self.run_bs("--pid", missing, "--pid", foreign.pid)
        self.assertExit(r, NO_PROCESS)
        self.assertAlive(foreign)

    def test_foreign_then_good(self):
        foreign, good = self.vm(cgroup=self.s.foreign), self.vm()
        r = self.run_bs("--pid", foreign.pid, "--pid", good.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(foreign)
        self.assertDiedOf(good, signal.SIGTERM)

    def test_two_good(self):
        a, b = self.vm(), self.vm(cgroup=self.s.nested)
        r = self.run_bs("--pid", a.pid, "--pid", b.pid, "--signal", "KILL")
        self.assertExit(r, OK)
        self.assertDiedOf(a, signal.SIGKILL)
        self.assertDiedOf(b, signal.SIGKILL)


class DryRunJsonVerbose(harness.BangerTestCase):

    def test_dry_run_by_cgroup(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--dry-run", "--json")
        self.assertExit(r, OK)
        self.assertAlive(vm)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "would-deliver")
        self.assertIs(obj["dry_run"], True)
        self.assertEqual(obj["match"], "cgroup")
        r = self.run_bs("--pid", vm.pid, "--dry-run")
        self.assertExit(r, OK)
        self.assertEqual((r.out, r.err), ("", ""))
        self.assertAlive(vm)

    def test_dry_run_by_api_sock(self):
        p = self.runtime_sock()
        fc = self.firecracker("--api-sock", p, cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, "--dry-run", "--json", "--signal", "KILL")
        self.assertExit(r, OK)
        self.assertAlive(fc)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "would-deliver")
        self.assertEqual(obj["match"], "api-sock")
        self.assertEqual(obj["signal"], "KILL")

    def test_dry_run_reports_refusal(self):
        foreign = self.vm(cgroup=self.s.foreign)
        r = self.run_bs("--pid", foreign.pid, "--dry-run")
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(foreign)

    def test_json_fields_and_types(self):
        missing = self.reaped_pid()
        p = self.runtime_sock()
        good = self.vm()
        fc = self.firecracker("--api-sock", p, cgroup=self.s.foreign)
        foreign = self.vm(cgroup=self.s.foreign)
        r = self.run_bs("--pid", good.pid, "--pid", fc.pid, "--pid", foreign.pid,
                        "--pid", missing, "--pid", 1, "--json", "--signal", "sigusr1")
        self.assertExit(r, NOT_MANAGED)
        objs = self.json_lines(r)
        self.assertEqual(len(objs), 5)
        for o in objs:
            for key, types in JSON_TYPES.items():
                self.assertIn(key, o)
                self.assertIsInstance(o[key], types, f"{key} in {o}")
            self.assertNotIsInstance(o["pid"], bool)
            self.assertNotIsInstance(o["code"], bool)
            self.assertIn(o["outcome"], OUTCOMES)
            self.assertEqual(o["signal"], "USR1")
            self.assertIs(o["dry_run"], False)
        g, f, x, m, one = objs
        self.assertEqual((g["code"], g["outcome"], g["match"]), (0, "delivered", "cgroup"))
        self.assertEqual((f["code"], f["outcome"], f["match"], f["api_sock"]),
                         (0, "delivered", "api-sock", p))
        self.assertEqual((x["code"], x["outcome"], x["match"]), (4, "not-managed", None))
        self.assertEqual(x["cgroup"], self.s.foreign)
        self.assertEqual((m["code"], m["outcome"]), (3, "no-such-process"))
        self.assertEqual((one["code"], one["outcome"]), (6, "protected"))
        self.assertDiedOf(good, signal.SIGUSR1)
        self.assertDiedOf(fc, signal.SIGUSR1)
        self.assertAlive(foreign)

    def test_json_strings_are_escaped(self):
        # A cgroup name with a quote, a backslash and a tab must not break the line.
        odd = self.s.cgroup('other.slice/we"ird\\na\tme')
        vm = self.vm(cgroup=odd)
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        obj = self.one_json(r)
        self.assertEqual(obj["cgroup"], odd)
        self.assertAlive(vm)

    def test_verbose_one_line_per_pid(self):
        a, b = self.vm(), self.vm()
        r = self.run_bs("--pid", a.pid, "--pid", b.pid, "--verbose")
        self.assertExit(r, OK)
        self.assertEqual(r.out, "")
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 2, r.err)
        self.assertIn(str(a.pid), lines[0])
        self.assertIn(str(b.pid), lines[1])
        self.assertDiedOf(a, signal.SIGTERM)
        self.assertDiedOf(b, signal.SIGTERM)


class CommandLine(harness.BangerTestCase):

    def _usage(self, *args, alive=None):
        r = self.run_bs(*args)
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "", "usage errors print nothing on stdout")
        self.assertNotEqual(r.err, "", "usage errors give a hint")
        if alive is not None:
            self.assertAlive(alive)
        return r

    def test_no_arguments(self):
        self._usage()

    def test_unknown_option(self):
        vm = self.vm()
        self._usage("--pid", vm.pid, "--bogus", alive=vm)
        self._usage("--pid", vm.pid, "-x", alive=vm)

    def test_missing_values(self):
        vm = self.vm()
        self._usage("--pid", vm.pid, "--pid", alive=vm)
        self._usage("--pid", vm.pid, "--signal", alive=vm)
        r = self.run_bs("--pid", vm.pid, "--config", config=None)
        self.assertExit(r, USAGE)
        self.assertAlive(vm)
        self._usage("--json", "--dry-run")  # --pid is required

    def test_duplicate_signal(self):
        vm = self.vm()
        self._usage("--pid", vm.pid, "--signal", "TERM", "--signal", "TERM", alive=vm)
        self._usage("--pid", vm.pid, "--signal", "KILL", "--signal=USR1", alive=vm)

    def test_positional_argument(self):
        vm = self.vm()
        self._usage(vm.pid, alive=vm)
        self._usage("--pid", vm.pid, "extra", alive=vm)
        self._usage("--pid", vm.pid, "--", str(vm.pid), alive=vm)

    def test_help(self):
        r = self.run_bs("--help", config=None)
        self.assertExit(r, OK)
        text = r.out
        for option in ("--pid", "--signal", "--dry-run", "--json", "--config", "--verbose",
                       "--help", "--version"):
            self.assertIn(option, text)
        for code in sorted(codes.CONTRACT_CODES):
            self.assertRegex(text, rf"(?m)^[\s|]*{code}\b",
                             f"exit code {code} missing from the --help table")
        self.assertRegex(text, r"(?i)exit")

    def test_version(self):
        r = self.run_bs("--version", config=None)
        self.assertExit(r, OK)
        self.assertNotEqual(r.out.strip(), "")
        version = os.environ.get("BANGER_VERSION")
        if version:
            self.assertIn(version, r.out)

    def test_help_does_not_signal(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--help")
        self.assertExit(r, OK)
        self.assertAlive(vm)


if __name__ == "__main__":
    harness.main()
