#!/usr/bin/env python3
"""Whose command line banger-signal reads: only a Firecracker's that rule 1 did not accept.

A process controls its own /proc/<pid>/cmdline: its size, and how long reading it
takes (an argument area mapped from a FUSE file that never answers stalls the reader;
banger-signal(8) says so under known limits). So the judge asks for it only when
rule 2 is the target's last chance. The stand-in gives back the pages of its
argument strings (STANDIN_DROP_ARGS): they stay absent from /proc/<pid>/pagemap
until someone reads /proc/<pid>/cmdline.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import signal

from banger_test import procfs
from banger_test.codes import NOT_MANAGED, OK
import adversarial

LONG = "p" * 20000   # the argument strings span several pages
DROP = {"STANDIN_DROP_ARGS": "1"}


class CommandLineReads(adversarial.AdversarialTestCase):

    def dropped(self, argv, cgroup):
        p = self.spawn(argv, cgroup=cgroup, env=DROP)
        pages = procfs.argument_pages_present(p.pid)
        self.assertGreaterEqual(len(pages), 2)
        self.assertEqual(set(pages), {False}, "the stand-in did not give its argument pages back")
        return p

    def assertUnread(self, p):
        self.assertEqual(set(procfs.argument_pages_present(p.pid)), {False},
                         f"/proc/{p.pid}/cmdline was read")

    def test_control_rule_2_reads_it(self):
        # The probe can see a read: a Firecracker outside the service cgroup is judged by it.
        sock = self.runtime_sock()
        fc = self.dropped([self.standin, "--api-sock", sock, LONG], cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, "--dry-run", "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "api-sock")
        self.assertIn(True, procfs.argument_pages_present(fc.pid))

    def test_accepted_by_cgroup_unread(self):
        vm = self.dropped([self.standin, LONG], cgroup=self.s.service)
        r = self.run_bs("--pid", vm.pid, "--dry-run", "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "cgroup")
        self.assertUnread(vm)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)

    def test_listed_by_cgroup_unread(self):
        vm = self.dropped([self.standin, LONG], cgroup=self.s.service)
        r = self.run_bs("--list", "--json")
        self.assertExit(r, OK)
        self.assertIn(vm.pid, [o["pid"] for o in self.json_lines(r)])
        self.assertUnread(vm)

    def test_other_executable_outside_unread(self):
        # Not a Firecracker, outside the service cgroup: refused by its executable alone.
        sock = self.runtime_sock()
        other = self.dropped([self.impostor, "--api-sock", sock, LONG], cgroup=self.s.foreign)
        r = self.run_bs("--pid", other.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertIn("is not firecracker", self.one_json(r)["reason"])
        self.assertUnread(other)
        self.assertAlive(other)


if __name__ == "__main__":
    adversarial.main()
