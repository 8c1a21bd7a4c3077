#!/usr/bin/env python3
"""Operations: --kill-after and --wait against real stand-ins (--list: test_list.py).

The stand-ins tell us which signal arrived: STANDIN_IGNORE_TERM=1 survives TERM,
so only a KILL (the escalation) can end it; a plain stand-in dies of TERM, and
its exit status says TERM, never KILL. Timings below are behaviour ("one
deadline for all", "KILL not before the deadline"), with generous margins.
"""

import signal
import time

from banger_test.codes import NOT_MANAGED, OK, STILL_RUNNING, USAGE
import harness

IGNORE_TERM = {"STANDIN_IGNORE_TERM": "1"}

# SECONDS the contract refuses: sign, exponent, hex, above 3600, empty,
# whitespace, more than three decimals, leading zero, and a few more shapes.
MALFORMED_SECONDS = [
    "-1", "1e3", "0x1", "3601", "", " 1", "1 ", "1.2345", "01", "00", "-0", "+1", "1.",
    ".5", "1,5", "inf", "nan", "1s", "3600.001", "99999", "\uff11", "\u0663",
]
# ... and some it accepts (checked against a target that exits at once).
WELL_FORMED_SECONDS = ["3600", "5", "0.5", "1.25", "2.125", "10.0"]


def seconds_args(option, value):
    """harness.option_forms, but an empty SECONDS only as --opt= (never as its own word)."""
    return harness.option_forms(option, value) if value else [[f"{option}="]]


class OperationsTestCase(harness.BangerTestCase):

    def assertMalformedSecondsRefused(self, option):
        """Every malformed SECONDS, in each spelling, is a usage error and signals nothing."""
        for value in MALFORMED_SECONDS:
            for form in seconds_args(option, value):
                with self.subTest(argv=form):
                    vm = self.vm()
                    r = self.run_bs("--pid", vm.pid, *form, "--json")
                    self.assertExit(r, USAGE)
                    self.assertEqual(r.out, "", "usage errors print no JSON")
                    self.assertAlive(vm, f"signalled despite {form!r}")
                    vm.kill()
                    vm.wait()

    def timed_bs(self, *args, **kw):
        t0 = time.monotonic()
        r = self.run_bs(*args, **kw)
        r.elapsed = time.monotonic() - t0
        return r


class KillAfter(OperationsTestCase):

    def test_term_ignored_escalates_to_kill(self):
        vm = self.vm(env=IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--kill-after", "1", "--json")
        # Well before the deadline the target has had TERM only: still alive.
        time.sleep(0.4)
        self.assertIsNone(vm.poll(), "the target died before the --kill-after deadline")
        self.assertIsNone(p.poll(), "banger-signal returned before the --kill-after deadline")
        r = self.finish_bs(p)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGKILL)
        obj = self.one_json(r)
        self.assertEqual((obj["pid"], obj["code"], obj["outcome"]), (vm.pid, OK, "delivered"))
        self.assertEqual(obj["signal"], "TERM", "the signal asked for, not the escalation")
        self.assertIs(obj["escalated"], True)
        self.assertIn("escalated to KILL", obj["reason"])
        self.assertEqual(r.err, "")

    def test_term_obeyed_no_kill(self):
        vm = self.vm()
        r = self.timed_bs("--pid", vm.pid, "--kill-after", "5", "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM, "(a KILL was sent although TERM sufficed?)")
        obj = self.one_json(r)
        self.assertIs(obj["escalated"], False)
        self.assertNotIn("KILL", obj["reason"])
        # "wait up to": an exited target ends the wait, the deadline is not sat out.
        self.assertLess(r.elapsed, 3.0, f"waited {r.elapsed:.2f} s for a target that exited")

    def test_human_output_quiet_on_success(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", vm.pid, "--kill-after", "0.2")
        self.assertExit(r, OK)
        self.assertEqual((r.out, r.err), ("", ""))
        self.assertDiedOf(vm, signal.SIGKILL)

    def test_one_deadline_for_several_pids(self):
        vms = [self.vm(env=IGNORE_TERM) for _ in range(3)]
        r = self.timed_bs(*harness.pid_args(vm.pid for vm in vms),
                          "--kill-after", "1", "--json")
        self.assertExit(r, OK)
        for vm in vms:
            self.assertDiedOf(vm, signal.SIGKILL)
        objs = self.json_lines(r)
        self.assertEqual([o["pid"] for o in objs], [vm.pid for vm in vms])
        self.assertEqual([o["escalated"] for o in objs], [True, True, True])
        self.assertGreaterEqual(r.elapsed, 1.0, "KILL before the deadline")
        # One deadline for all: 3 pids x 1 s in sequence would take >= 3 s.
        self.assertLess(r.elapsed, 2.5, f"took {r.elapsed:.2f} s: a deadline per pid?")

    def test_mixed_targets_escalate_only_the_stubborn(self):
        stubborn, obedient = self.vm(env=IGNORE_TERM), self.vm(cgroup=self.s.nested)
        r = self.run_bs("--pid", stubborn.pid, "--pid", obedient.pid, "--kill-after", "0.5",
                        "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(stubborn, signal.SIGKILL)
        self.assertDiedOf(obedient, signal.SIGTERM)
        objs = self.json_lines(r)
        self.assertEqual([(o["pid"], o["escalated"]) for o in objs],
                         [(stubborn.pid, True), (obedient.pid, False)])

    def test_refused_target_is_never_escalated(self):
        # The escalation applies to delivered pids only: a refused one gets nothing,
        # not even after the deadline.
        foreign = self.vm(cgroup=self.s.foreign, env=IGNORE_TERM)
        good = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", foreign.pid, "--pid", good.pid, "--kill-after", "0.3",
                        "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(foreign, "a refused target was signalled by the escalation")
        self.assertDiedOf(good, signal.SIGKILL)
        f, g = self.json_lines(r)
        self.assertEqual((f["pid"], f["code"], f["escalated"]), (foreign.pid, NOT_MANAGED, False))
        self.assertEqual((g["pid"], g["code"], g["escalated"]), (good.pid, OK, True))

    def test_dry_run_does_not_escalate(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", vm.pid, "--kill-after", "0.2", "--dry-run", "--json")
        self.assertExit(r, OK)
        self.assertAlive(vm, "--dry-run --kill-after signalled")
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "would-deliver")
        self.assertIs(obj["escalated"], False)

    def test_malformed_seconds(self):
        self.assertMalformedSecondsRefused("--kill-after")


class Wait(OperationsTestCase):

    def test_still_running_gives_10_and_leaves_it_alive(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.timed_bs("--pid", vm.pid, "--wait", "0.5", "--json")
        self.assertExit(r, STILL_RUNNING)
        self.assertAlive(vm, "--wait must never escalate")
        obj = self.one_json(r)
        self.assertEqual((obj["pid"], obj["code"], obj["outcome"]),
                         (vm.pid, STILL_RUNNING, "still-running"))
        self.assertIs(obj["escalated"], False)
        self.assertGreaterEqual(r.elapsed, 0.5)
        self.assertTrue(r.err.startswith(f"banger-signal: pid {vm.pid}: "), r.err)
        vm.kill()
        vm.wait()

    def test_exited_gives_0(self):
        vm = self.vm()
        r = self.timed_bs("--pid", vm.pid, "--wait", "5", "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "delivered")
        self.assertIs(obj["escalated"], False)
        self.assertLess(r.elapsed, 3.0, f"waited {r.elapsed:.2f} s for a target that exited")

    def test_exit_after_a_while_is_seen(self):
        # TERM is ignored; we end the target ourselves mid-wait: banger-signal must
        # notice the exit (pidfd), not sit out the deadline.
        vm = self.vm(env=IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--wait", "10")
        time.sleep(0.5)
        self.assertIsNone(p.poll(), "returned although the target is still running")
        t0 = time.monotonic()
        vm.kill()
        r = self.finish_bs(p)
        self.assertExit(r, OK)
        self.assertLess(time.monotonic() - t0, 3.0)

    def test_one_deadline_for_several_pids(self):
        vms = [self.vm(env=IGNORE_TERM) for _ in range(3)]
        r = self.timed_bs(*harness.pid_args(vm.pid for vm in vms), "--wait", "1",
                          "--json")
        self.assertExit(r, STILL_RUNNING)
        for vm in vms:
            self.assertAlive(vm)
        self.assertEqual([(o["pid"], o["code"]) for o in self.json_lines(r)],
                         [(vm.pid, STILL_RUNNING) for vm in vms])
        self.assertLess(r.elapsed, 2.5, f"took {r.elapsed:.2f} s: a deadline per pid?")

    def test_mixed_targets(self):
        obedient, stubborn = self.vm(), self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", obedient.pid, "--pid", stubborn.pid, "--wait", "0.5", "--json")
        self.assertExit(r, STILL_RUNNING)
        self.assertDiedOf(obedient, signal.SIGTERM)
        self.assertAlive(stubborn)
        self.assertEqual([(o["pid"], o["code"]) for o in self.json_lines(r)],
                         [(obedient.pid, OK), (stubborn.pid, STILL_RUNNING)])

    def test_malformed_seconds(self):
        self.assertMalformedSecondsRefused("--wait")

    def test_well_formed_seconds(self):
        for value in WELL_FORMED_SECONDS:
            with self.subTest(seconds=value):
                vm = self.vm()
                r = self.run_bs("--pid", vm.pid, "--wait", value)
                self.assertExit(r, OK)
                self.assertDiedOf(vm, signal.SIGTERM)

    def test_wait_and_kill_after_exclude_each_other(self):
        vm = self.vm()
        for args in (["--wait", "1", "--kill-after", "1"], ["--kill-after=1", "--wait=1"]):
            with self.subTest(args=args):
                r = self.run_bs("--pid", vm.pid, *args, "--json")
                self.assertExit(r, USAGE)
                self.assertEqual(r.out, "")
                self.assertAlive(vm)


if __name__ == "__main__":
    harness.main()
