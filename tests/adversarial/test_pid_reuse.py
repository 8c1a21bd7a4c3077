#!/usr/bin/env python3
"""PID reuse: the process judged is the process signalled, or nobody is.

Each test runs pidns_driver.py as pid 1 of a private PID namespace, where
/proc/sys/kernel/ns_last_pid hands a killed and reaped target's pid to the
next process we start. banger-signal-testhooks is paused (BANGER_TEST_PAUSE)
while the swap happens, then resumed. The process that took the pid blocks
every signal, so anything sent to it stays pending in /proc/<pid>/status.

Exits 77 without test hooks, root, a writable cgroup2 mount or PID namespaces.
"""

import json
import os
import signal
import subprocess
import sys

from banger_test.codes import NOT_MANAGED, NO_PROCESS, OK
import adversarial

DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pidns_driver.py")
TESTHOOKS = None


def namespaces_problem():
    try:
        r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                            "sh", "-c", 'test "$$" = 1 && echo 9 > /proc/sys/kernel/ns_last_pid'],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unshare: {e}"
    if r.returncode != 0:
        return f"no private PID namespace with a writable ns_last_pid: {r.stderr!r}"
    return None


class PidReuse(adversarial.AdversarialTestCase):

    def reuse(self, direction, point, sig="TERM"):
        params = {
            "direction": direction,
            "point": point,
            "signal": sig,
            "testhooks": TESTHOOKS,
            "standin": self.standin,
            "config": self.s.config,
            "service_procs": self.s.v2_procs_file(self.s.service),
            "foreign_procs": self.s.v2_procs_file(self.s.foreign),
            "tmp": self.s.fresh_dir("pidns-"),
        }
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                sys.executable, DRIVER, json.dumps(params)]
        r = subprocess.run(argv, capture_output=True, timeout=120,
                           env={"PATH": adversarial.harness.CLEAN_PATH, "PYTHONDONTWRITEBYTECODE": "1",
                                "PYTHONPATH": os.environ.get("PYTHONPATH", "")})
        self.assertEqual(r.returncode, 0, f"driver failed:\n{r.stderr.decode(errors='replace')}")
        facts = json.loads(r.stdout.decode().splitlines()[-1])
        self.facts = facts
        # Preconditions: the swap really happened, into the intended cgroups.
        self.assertEqual(facts["second_pid"], facts["pid"])
        first_cg, second_cg = {"vm-then-foreign": (self.s.service, self.s.foreign),
                               "foreign-then-vm": (self.s.foreign, self.s.service),
                               "no-swap": (self.s.service, self.s.service)}[direction]
        self.assertEqual(facts["first_cgroup"], first_cg)
        self.assertEqual(facts["second_cgroup"], second_cg)
        return facts

    def assertNothingReached(self, facts):
        second = facts["second"]
        self.assertTrue(second["alive"], f"the process that took pid {facts['pid']} died: {facts}")
        self.assertTrue(second["state"].startswith("S"), f"state {second['state']}: {facts}")
        self.assertIn(signal.SIGTERM, second["blocked"])
        self.assertEqual(second["pending"], [], f"it received signal(s): {facts}")
        # The check above can see a signal: one sent by the driver shows up.
        self.assertEqual(facts["detector_control"], [signal.SIGUSR1])

    def assertGone(self, facts):
        bs = facts["bs"]
        self.assertEqual(bs["rc"], NO_PROCESS, f"banger-signal: {bs}")
        obj = json.loads(bs["out"])
        self.assertEqual(obj["pid"], facts["pid"])
        self.assertEqual(obj["outcome"], "no-such-process")

    def test_control_no_swap_is_delivered(self):
        # The same orchestration without the swap delivers: the tests below
        # fail for the right reason if the pin ever stops protecting.
        facts = self.reuse("no-swap", "judged")
        self.assertEqual(facts["bs"]["rc"], OK, facts)
        self.assertEqual(json.loads(facts["bs"]["out"])["outcome"], "delivered")
        self.assertTrue(facts["second"]["alive"])
        self.assertEqual(facts["second"]["pending"], [signal.SIGTERM], facts)

    def test_accepted_vm_replaced_by_foreign_after_judgement(self):
        facts = self.reuse("vm-then-foreign", "judged")
        self.assertGone(facts)
        self.assertNothingReached(facts)
        # Judged afresh, the newcomer is refused: only the pin protected it
        # from the verdict given to its predecessor.
        self.assertEqual(facts["fresh_dry_run"]["rc"], NOT_MANAGED, facts)

    def test_accepted_vm_replaced_by_foreign_kill(self):
        facts = self.reuse("vm-then-foreign", "judged", sig="KILL")
        self.assertGone(facts)
        self.assertNothingReached(facts)

    def test_vm_replaced_by_foreign_while_pinned(self):
        facts = self.reuse("vm-then-foreign", "pinned")
        self.assertGone(facts)
        self.assertNothingReached(facts)

    def test_foreign_replaced_by_vm_while_pinned(self):
        facts = self.reuse("foreign-then-vm", "pinned")
        self.assertGone(facts)
        self.assertNothingReached(facts)
        # Judged afresh, the newcomer would be signalled: the pid alone
        # would have named a deliverable VM.
        self.assertEqual(facts["fresh_dry_run"]["rc"], OK, facts)
        self.assertEqual(facts["second_after_dry_run"], [])


if __name__ == "__main__":
    TESTHOOKS = adversarial.testhooks_or_skip()
    if os.geteuid() == 0:
        problem = namespaces_problem()
        if problem is not None:
            print(f"SKIP: {problem}", file=sys.stderr)
            sys.exit(adversarial.SKIP_EXIT)
    adversarial.main()
