#!/usr/bin/env python3
"""Hostile targets: processes shaped to confuse the checks.

Huge command lines and argument counts, thousands of fds, a cgroup named
"x (deleted)", a deleted executable, zombies, thread ids, and a process that
exits while banger-signal is checking it (banger-signal-testhooks, paused).
Cgroup paths at and beyond the length the kernel shows: test_long_cgroups.py.
Each test asserts the documented outcome (banger-signal(8), ACCEPTANCE
RULES) and that nobody else was signalled.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import os
import shutil
import signal
import sys

from banger_test import procfs
from banger_test.codes import NOT_MANAGED, NO_PROCESS, OK
import adversarial
from adversarial import MAX_ARG, pending_signals

CMDLINE_CAP = 128 * 1024     # flow.cpp: kCmdlineCap

# Opens N/2 socket pairs (N inheritable socket fds), then execs argv[2:].
FD_HOG = r"""
import os, resource, socket, sys
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < n + 64:
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 64, max(hard, n + 64)))
keep = []
for _ in range(n // 2):
    for s in socket.socketpair():
        s.set_inheritable(True)
        keep.append(s)
os.execv(sys.argv[2], sys.argv[2:])
"""


class BigTargets(adversarial.AdversarialTestCase):

    def test_1mib_cmdline_refused_by_api_sock(self):
        sock = self.runtime_sock()
        fc = self.firecracker("--api-sock", sock, *(["p" * MAX_ARG] * 8), cgroup=self.s.foreign)
        with open(f"/proc/{fc.pid}/cmdline", "rb") as f:
            self.assertGreater(len(f.read()), 1 << 20)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        obj = self.one_json(r)
        self.assertIn(f"larger than {CMDLINE_CAP} bytes", obj["reason"])
        self.assertAlive(fc)

    def test_cmdline_just_over_the_cap_refused(self):
        sock = self.runtime_sock()
        # program path + NULs + flag + socket + padding = cap + 1 bytes.
        used = len(os.path.realpath(self.standin)) + 1 + len("--api-sock") + 1 + len(sock) + 1
        pad = CMDLINE_CAP + 1 - used - 1
        fc = self.spawn([os.path.realpath(self.standin), "--api-sock", sock, "q" * pad],
                        cgroup=self.s.foreign)
        with open(f"/proc/{fc.pid}/cmdline", "rb") as f:
            self.assertEqual(len(f.read()), CMDLINE_CAP + 1)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_cmdline_at_the_cap_accepted(self):
        sock = self.runtime_sock()
        used = len(os.path.realpath(self.standin)) + 1 + len("--api-sock") + 1 + len(sock) + 1
        pad = CMDLINE_CAP - used - 1
        fc = self.spawn([os.path.realpath(self.standin), "--api-sock", sock, "q" * pad],
                        cgroup=self.s.foreign)
        with open(f"/proc/{fc.pid}/cmdline", "rb") as f:
            self.assertEqual(len(f.read()), CMDLINE_CAP)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_1mib_cmdline_in_service_cgroup_accepted(self):
        # Rule 1 never reads the command line.
        fc = self.firecracker(*(["p" * MAX_ARG] * 8), cgroup=self.s.service)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "cgroup")
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_10000_arguments_api_sock_last(self):
        sock = self.runtime_sock()
        fc = self.firecracker(*(["x"] * 10000), "--api-sock", sock, cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual((obj["match"], obj["api_sock"]), ("api-sock", sock))
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_10000_arguments_hiding_a_second_flag(self):
        sock = self.runtime_sock()
        fc = self.firecracker("--api-sock", sock, *(["x"] * 10000), f"--api-sock={sock}",
                              cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def _fd_hog(self, sock, n=5000, env=None):
        fc = self.spawn([sys.executable, "-c", FD_HOG, str(n), os.path.realpath(self.standin),
                         "--api-sock", sock], cgroup=self.s.foreign, env=env)
        self.assertEqual(os.path.basename(os.readlink(f"/proc/{fc.pid}/exe")), "firecracker")
        self.assertGreaterEqual(len(os.listdir(f"/proc/{fc.pid}/fd")), n)
        return fc

    def test_5000_fds_holding_the_api_socket(self):
        sock = self.runtime_sock()
        fc = self._fd_hog(sock)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "api-sock")
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_5000_fds_none_of_them_the_api_socket(self):
        # The claimed socket is served by someone else; the hog holds 5000
        # sockets and a listening one elsewhere: all scanned, none matches.
        sock = self.runtime_sock()
        owner = self.firecracker("--api-sock", sock, cgroup=self.s.foreign)
        hog = self._fd_hog(sock, env={"STANDIN_BIND_PATH": self.runtime_sock()})
        r = self.run_bs("--pid", hog.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertIn("does not hold a listening socket", self.one_json(r)["reason"])
        self.assertAlive(hog)
        self.assertAlive(owner)


class DeletedThings(adversarial.AdversarialTestCase):

    def test_cgroup_named_deleted_refused(self):
        cg = self.s.cgroup(self.s.service.split("/", 2)[2] + "/x (deleted)")
        fc = self.firecracker(cgroup=cg)
        self.assertEqual(procfs.proc_cgroup(fc.pid, "0"), cg)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertIn("removed cgroup", self.one_json(r)["reason"])
        self.assertAlive(fc)

    def test_cgroup_below_one_named_deleted_accepted(self):
        # Only a final " (deleted)" marks removal; this one is live.
        cg = self.s.cgroup(self.s.service.split("/", 2)[2] + "/x (deleted)/vm")
        fc = self.firecracker(cgroup=cg)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(fc, signal.SIGTERM)

    def _deleted_firecracker(self, cgroup, name="firecracker", delete=True):
        copy = os.path.join(self.s.fresh_dir("exe-"), name)
        shutil.copy2(self.standin, copy)
        sock = self.runtime_sock()
        fc = self.spawn([copy, "--api-sock", sock], cgroup=cgroup)
        if delete:
            os.unlink(copy)
            self.assertTrue(os.readlink(f"/proc/{fc.pid}/exe").endswith(" (deleted)"))
        return fc

    def test_deleted_executable_refused_by_api_sock(self):
        fc = self._deleted_firecracker(self.s.foreign)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertIn("was deleted", self.one_json(r)["reason"])
        self.assertAlive(fc)

    def test_deleted_executable_replaced_by_a_new_file(self):
        # A fresh "firecracker" at the old path does not revive the link.
        fc = self._deleted_firecracker(self.s.foreign)
        shutil.copy2(self.standin, os.readlink(f"/proc/{fc.pid}/exe")[:-len(" (deleted)")])
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_executable_named_like_a_deleted_firecracker(self):
        fc = self._deleted_firecracker(self.s.foreign, name="firecracker (deleted)", delete=False)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_deleted_executable_in_service_cgroup_accepted(self):
        fc = self._deleted_firecracker(self.s.service)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "cgroup")
        self.assertDiedOf(fc, signal.SIGTERM)


class NotQuiteProcesses(adversarial.AdversarialTestCase):

    def test_zombie_in_service_cgroup(self):
        vm = self.vm()
        self.make_zombie(vm)
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, NO_PROCESS)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "no-such-process")
        self.assertIn("zombie", obj["reason"])
        self.assertEqual(vm.wait(timeout=5), -signal.SIGKILL)

    def test_thread_id_of_an_accepted_process(self):
        p, tid = self.victim_with_thread(cgroup=self.s.service)
        self.assertNotEqual(tid, p.pid)
        self.assertTrue(os.path.isdir(f"/proc/{p.pid}/task/{tid}"))
        r = self.run_bs("--pid", tid, "--json")
        self.assertExit(r, NOT_MANAGED)
        obj = self.one_json(r)
        self.assertIn("thread id", obj["reason"])
        self.assertUntouched(p, "(its thread id was given)")
        # Control: the process itself is accepted and gets the signal.
        r = self.run_bs("--pid", p.pid)
        self.assertExit(r, OK)
        self.assertReceived(p, signal.SIGTERM)

    def test_thread_id_listed_with_its_leader(self):
        p, tid = self.victim_with_thread(cgroup=self.s.service)
        # A refused thread id first: the leader after it is still delivered
        # once, and only once.
        r = self.run_bs("--pid", tid, "--pid", p.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertEqual([o["code"] for o in self.json_lines(r)], [NOT_MANAGED, OK])
        self.assertReceived(p, signal.SIGTERM)


class ExitsDuringTheChecks(adversarial.AdversarialTestCase):
    """The target dies while banger-signal-testhooks is paused."""

    def setUp(self):
        super().setUp()
        self.testhooks = adversarial.testhooks_path()
        if self.testhooks is None:
            self.skipTest(adversarial.NO_TESTHOOKS)

    def _exits_at(self, point, reap):
        vm = self.vm()
        p, pause = self.start_paused(self.testhooks, point, "--pid", vm.pid, "--json")
        if reap:
            self.reap_killed(vm)
        else:
            self.make_zombie(vm)
        r = self.finish(p, pause)
        self.assertExit(r, NO_PROCESS)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "no-such-process")
        if not reap:
            self.assertEqual(vm.wait(timeout=5), -signal.SIGKILL)
        return obj

    def test_exits_after_pinning_zombie(self):
        self._exits_at("pinned", reap=False)

    def test_exits_after_pinning_reaped(self):
        obj = self._exits_at("pinned", reap=True)
        self.assertIn("exited", obj["reason"])

    def test_exits_after_judgement_reaped(self):
        self._exits_at("judged", reap=True)

    def test_exits_after_judgement_zombie(self):
        self._exits_at("judged", reap=False)

    def test_control_survives_the_pause(self):
        v = self.victim(cgroup=self.s.service)
        p, pause = self.start_paused(self.testhooks, "judged", "--pid", v.pid)
        self.assertEqual(pending_signals(v.pid), set())
        r = self.finish(p, pause)
        self.assertExit(r, OK)
        self.assertReceived(v, signal.SIGTERM)


if __name__ == "__main__":
    adversarial.main()
