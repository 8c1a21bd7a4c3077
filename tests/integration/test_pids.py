#!/usr/bin/env python3
"""PID parsing: malformed values are usage errors (2) and nothing is signalled."""

import signal

from banger_test import procfs
from banger_test.codes import NO_PROCESS, USAGE
import harness


def pid_max():
    with open("/proc/sys/kernel/pid_max") as f:
        return int(f.read())


MALFORMED = [
    "+5", "-5", " 5", "5 ", "\t5", "5\n", "0x10", "0X10", "1e3", "05", "00", "007",
    "4294967295", "4294967296", "18446744073709551615", "99999999999999999999",
    "-1", "", "abc", "5a", "a5", "1.0", "1,000", "1_000", "５", "\u0663", "\u00b2",
]


class Malformed(harness.BangerTestCase):

    def _usage_and_nothing_signalled(self, *pid_args):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, *pid_args, "--json")
        self.assertExit(r, USAGE)
        self.assertEqual(r.out, "", "usage errors print no JSON")
        self.assertNotEqual(r.err, "", "usage errors say what is wrong")
        self.assertAlive(vm, f"after {pid_args!r}")
        return vm

    def test_malformed_values(self):
        for value in MALFORMED:
            for form in harness.option_forms("--pid", value):
                with self.subTest(form=form):
                    vm = self._usage_and_nothing_signalled(*form)
                    vm.kill()
                    vm.wait()

    def test_above_pid_max(self):
        self._usage_and_nothing_signalled("--pid", str(pid_max() + 1))

    def test_duplicate_pid(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--pid", vm.pid)
        self.assertExit(r, USAGE)
        self.assertAlive(vm)

    def test_4097_pids(self):
        vm = self.vm()
        others = free_pids(4096, exclude={vm.pid})
        args = harness.pid_args([vm.pid, *others])
        r = self.run_bs(*args)
        self.assertExit(r, USAGE)
        self.assertAlive(vm)

    def test_4096_pids_is_allowed(self):
        vm = self.vm()
        others = free_pids(4095, exclude={vm.pid})
        args = harness.pid_args([vm.pid, *others])
        r = self.run_bs(*args, "--json", timeout=120)
        # The first failing pid (a nonexistent one) decides the code.
        self.assertExit(r, NO_PROCESS)
        self.assertDiedOf(vm, signal.SIGTERM)
        objs = self.json_lines(r)
        self.assertEqual(len(objs), 4096)
        self.assertEqual([o["pid"] for o in objs], [vm.pid] + others)
        self.assertEqual(objs[0]["code"], 0)


def free_pids(count, exclude):
    """count distinct pids (high, below pid_max) that name no process now."""
    out, candidate = [], pid_max() - 1
    while len(out) < count and candidate > 300:
        if candidate not in exclude and not procfs.pid_exists(candidate):
            out.append(candidate)
        candidate -= 1
    if len(out) < count:
        raise RuntimeError("not enough free pids")
    return out


if __name__ == "__main__":
    harness.main()
