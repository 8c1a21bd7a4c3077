#!/usr/bin/env python3
"""End-to-end: the service's own processes are not VMs (issue 12, 8).

bangerd-root.service's main and control process live in the service cgroup, which rule 1
accepts whole; they are the root daemon, not its VMs. banger-signal asks systemd for the
unit's MainPID and ControlPID, once per call, and only about targets accepted by their
cgroup whose parent is PID 1 (systemd starts those two itself); it refuses them (6) and
never lists them, and fails closed (9) when systemd runs but cannot answer.

The sandbox has no systemd, so this file gives it a fake one (banger_test.sandbox.
fake_systemd): /run/systemd/system on a tmpfs inside the private namespace, and
org.freedesktop.systemd1 on the private bus, answering for the unit named by the sandbox's
service cgroup with the pids a test sets. The service's "own" processes are stand-ins in
the service cgroup adopted by PID 1 (banger_test.sandbox.adopted).

Run by `meson test` (suite e2e) as root, like test_polkit.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from banger_test import sandbox
from banger_test.codes import OK, PROTECTED, SYSTEM_ERROR
from banger_test.sandbox import USER_PATH
from banger_test.sandbox.adopted import Adopted
from banger_test.sandbox.fake_systemd import FakeSystemd
from test_polkit import E2ETestCase

SB: sandbox.Sandbox   # set in main() before the tests run
FAKE: FakeSystemd     # set in setUpModule()

_DOCTOR_LINE = re.compile(r'^(OK  |WARN|FAIL)  service unit: (.*)$', re.M)


def setUpModule():
    global FAKE
    FAKE = FakeSystemd(os.path.basename(SB.service_cgroup))
    FAKE.start()


def tearDownModule():
    FAKE.stop()


class ServiceTestCase(E2ETestCase):

    def setUp(self):
        FAKE.unit = os.path.basename(SB.service_cgroup)
        FAKE.main_pid = FAKE.control_pid = 0
        FAKE.answering = True
        FAKE.start()                       # again, if a test took it off the bus

    def adopted(self) -> Adopted:
        """A stand-in in the service cgroup whose parent is PID 1, as systemd's children are."""
        p = Adopted(SB.cgroup_dir(SB.service_cgroup), SB.standin)
        self.addCleanup(p.stop)
        return p

    def assertAlive(self, r: sandbox.Result, p: Adopted) -> None:
        self.assertTrue(p.still_alive_after(), f'pid {p.pid} died\n' + r.describe())

    def call(self, *args: str) -> tuple[sandbox.Result, list[tuple]]:
        """pkexec banger-signal ARGS as bsmember, and what systemd was asked meanwhile."""
        mark = FAKE.mark()
        r = SB.pkexec(SB.member, list(args))
        return r, FAKE.calls_since(mark)

    def json_by_pid(self, r: sandbox.Result) -> dict[int, dict]:
        return {obj['pid']: obj for obj in map(json.loads, r.stdout.splitlines())}

    def listed(self) -> set[int]:
        r, _ = self.call('--list', '--json')
        self.assertExit(r, OK)
        return set(self.json_by_pid(r))

    def assertAskedOnce(self, asked: list[tuple], r: sandbox.Result) -> None:
        unit = FAKE.unit
        self.assertEqual(asked, [('GetUnit', unit),
                                 ('Get', 'org.freedesktop.systemd1.Service', 'MainPID'),
                                 ('Get', 'org.freedesktop.systemd1.Service', 'ControlPID')],
                         r.describe())


class OwnProcesses(ServiceTestCase):

    def refused_as_own(self, which: str) -> None:
        own = self.adopted()
        setattr(FAKE, f'{which}_pid', own.pid)
        r, asked = self.call('--pid', str(own.pid), '--json')
        self.assertExit(r, PROTECTED)
        self.assertAlive(r, own)
        self.assertAudited(r, SB.member.uid, own.pid)
        obj = self.json_by_pid(r)[own.pid]
        self.assertEqual(obj['outcome'], 'protected', r.describe())
        self.assertIn(f"the service's own process (the {which} process of {FAKE.unit})",
                      obj['reason'])
        self.assertAskedOnce(asked, r)
        # ...and never listed, while a VM beside it is.
        vm = SB.spawn_vm()
        listed = self.listed()
        self.assertNotIn(own.pid, listed)
        self.assertIn(vm.pid, listed)

    def test_main_pid_refused_and_not_listed(self):
        self.refused_as_own('main')

    def test_control_pid_refused_and_not_listed(self):
        self.refused_as_own('control')

    def test_main_pid_refused_to_root_too(self):
        # Root's direct call asks systemd over a connection it makes as the helper user
        # (no polkit connection to share): still refused.
        own = self.adopted()
        FAKE.main_pid = own.pid
        mark = FAKE.mark()
        p = subprocess.run([SB.installed_binary, '--pid', str(own.pid)], env={'PATH': USER_PATH},
                           capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(p.returncode, PROTECTED, p.stderr)
        self.assertTrue(own.still_alive_after(), p.stderr)
        self.assertIn("the service's own process", p.stderr)
        self.assertEqual(len(FAKE.calls_since(mark)), 3)

    def test_another_pid1_child_in_the_cgroup_is_delivered(self):
        # Parented by PID 1 and in the cgroup, but neither of the unit's own processes.
        FAKE.main_pid = self.adopted().pid
        FAKE.control_pid = self.adopted().pid
        vm = self.adopted()
        r, asked = self.call('--pid', str(vm.pid))
        self.assertExit(r, OK)
        self.assertTrue(vm.gone_within(5), r.describe())
        self.assertAskedOnce(asked, r)

    def test_one_question_for_many_targets(self):
        main, control, vm1, vm2 = (self.adopted() for _ in range(4))
        FAKE.main_pid, FAKE.control_pid = main.pid, control.pid
        child = SB.spawn_vm()
        pids = [main.pid, control.pid, vm1.pid, vm2.pid, child.pid]
        r, asked = self.call(*(a for p in pids for a in ('--pid', str(p))), '--dry-run', '--json')
        self.assertExit(r, PROTECTED)
        codes = {pid: obj['code'] for pid, obj in self.json_by_pid(r).items()}
        self.assertEqual(codes, {main.pid: PROTECTED, control.pid: PROTECTED, vm1.pid: OK,
                                 vm2.pid: OK, child.pid: OK}, r.describe())
        self.assertAskedOnce(asked, r)

    def test_all_leaves_them_out(self):
        # --all signals what --list shows: the service's own are not refused, just not there.
        SB.stop_targets()
        main, control, vm = (self.adopted() for _ in range(3))
        FAKE.main_pid, FAKE.control_pid = main.pid, control.pid
        child = SB.spawn_vm()
        r, asked = self.call('--all', '--json')
        self.assertExit(r, OK)
        self.assertEqual(sorted(self.json_by_pid(r)), sorted([vm.pid, child.pid]), r.describe())
        self.assertTrue(vm.gone_within(5) and child.gone_within(5), r.describe())
        self.assertAlive(r, main)
        self.assertAlive(r, control)
        self.assertAskedOnce(asked, r)

    def test_unit_not_loaded_has_no_own_processes(self):
        # systemd knows no such unit (NoSuchUnit): nothing of it runs, nothing is refused.
        FAKE.unit = 'another.service'
        vm = self.adopted()
        r, asked = self.call('--pid', str(vm.pid))
        self.assertExit(r, OK)
        self.assertTrue(vm.gone_within(5), r.describe())
        self.assertEqual(asked, [('GetUnit', os.path.basename(SB.service_cgroup))], r.describe())

    def test_child_vm_delivered_without_asking(self):
        # Its parent is not PID 1: it cannot be one of systemd's, and nobody is asked.
        FAKE.main_pid = self.adopted().pid
        vm = SB.spawn_vm()
        r, asked = self.call('--pid', str(vm.pid))
        self.assertDelivered(r, vm)
        self.assertEqual(asked, [], r.describe())


class SystemdCannotAnswer(ServiceTestCase):
    """/run/systemd/system says systemd runs; if it cannot say which processes are the
    service's own, a target that may be one is refused (9), never signalled."""

    def test_off_the_bus_fails_closed(self):
        FAKE.stop_answering()
        maybe_own = self.adopted()
        r, _ = self.call('--pid', str(maybe_own.pid), '--json')
        self.assertExit(r, SYSTEM_ERROR)
        self.assertAlive(r, maybe_own)
        reason = self.json_by_pid(r)[maybe_own.pid]['reason']
        self.assertIn('cannot ask systemd', reason)
        self.assertAudited(r, SB.member.uid, maybe_own.pid)
        # --list cannot tell either, and leaves it out.
        r, _ = self.call('--list', '--json')
        self.assertNotIn(maybe_own.pid, self.json_by_pid(r), r.describe())
        # A child VM needs no answer.
        vm = SB.spawn_vm()
        r, _ = self.call('--pid', str(vm.pid))
        self.assertDelivered(r, vm)

    def test_all_refuses_what_may_be_own(self):
        # --all cannot leave out what it cannot tell apart: refused (9), as with --pid.
        SB.stop_targets()
        FAKE.stop_answering()
        maybe_own = self.adopted()
        vm = SB.spawn_vm()
        r, _ = self.call('--all', '--json')
        self.assertExit(r, SYSTEM_ERROR)
        codes = {pid: obj['code'] for pid, obj in self.json_by_pid(r).items()}
        self.assertEqual(codes, {maybe_own.pid: SYSTEM_ERROR, vm.pid: OK}, r.describe())
        self.assertAlive(r, maybe_own)
        self.assertTrue(vm.gone_within(5), r.describe())

    def test_hung_fails_closed(self):
        FAKE.answering = False               # takes the call, never replies
        maybe_own = self.adopted()
        r, asked = self.call('--pid', str(maybe_own.pid), '--json')
        self.assertExit(r, SYSTEM_ERROR)
        self.assertAlive(r, maybe_own)
        self.assertEqual(asked, [('GetUnit', FAKE.unit)], r.describe())


class ThroughSocket:
    """The same cases through the socket door: the instance asks systemd as the pkexec
    door's helper does (test_socket_door.py has the rest of the socket door's twins)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        SB.start_door()

    @classmethod
    def tearDownClass(cls):
        SB.stop_door()
        super().tearDownClass()

    def call(self, *args: str) -> tuple[sandbox.Result, list[tuple]]:
        mark = FAKE.mark()
        r = SB.through_socket(SB.member, list(args))
        for obj in map(json.loads, r.stdout.splitlines()):
            self.assertEqual(obj['door'], 'socket', r.describe())
        return r, FAKE.calls_since(mark)


class OwnProcessesThroughSocket(ThroughSocket, OwnProcesses):
    test_main_pid_refused_to_root_too = None   # root's own call: it has no socket twin


class SystemdCannotAnswerThroughSocket(ThroughSocket, SystemdCannotAnswer):
    pass


class Doctor(ServiceTestCase):

    def doctor_line(self) -> tuple[str, str]:
        r = SB.run_as(SB.member, [SB.installed_binary, '--doctor'])
        m = _DOCTOR_LINE.search(r.stdout)
        self.assertIsNotNone(m, r.describe())
        return m[1].strip(), m[2]

    def test_names_the_main_process(self):
        main = self.adopted()
        FAKE.main_pid = main.pid
        level, detail = self.doctor_line()
        self.assertEqual(level, 'OK', detail)
        self.assertIn(FAKE.unit, detail)
        self.assertIn(f'main process {main.pid}', detail)

    def test_warns_when_systemd_cannot_answer(self):
        FAKE.stop_answering()
        level, detail = self.doctor_line()
        self.assertEqual(level, 'WARN', detail)
        self.assertIn('cannot ask systemd', detail)


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
