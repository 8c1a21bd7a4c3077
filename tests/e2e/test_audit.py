#!/usr/bin/env python3
"""End-to-end: no signal without a line before it (issue 17, item 2).

A caller that owns its cgroup can freeze the pkexec door's root helper at a moment of its
choosing and kill it (the third review did, through cgroup.freeze and cgroup.kill). A
helper stopped right after pidfd_send_signal and killed there must leave the signal on
record: the line naming caller, target and signal is written before the signal goes.

banger-signal-testhooks stops at its pause point "signalled", right after the send; the
test then reads the log, checks the VM got the signal, and kills the helper with SIGKILL,
as cgroup.kill would. Root's direct call stands in for the pkexec door (pkexec runs only
the installed binary, which has no pause points; the recipe from the send on is the
same), and the socket door's instance for itself.

Run by `meson test` (suite e2e) as root in the sandbox of banger_test.sandbox; exits 77
(skipped) when the sandbox cannot run. Environment as for test_polkit.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unittest

from banger_test import sandbox
from banger_test.pause import Pause

SB: sandbox.Sandbox  # set in main() before the tests run

TESTHOOKS = os.path.join(os.environ.get('BANGER_E2E_BUILDDIR', ''), 'src', 'banger-signal-testhooks')


@unittest.skipUnless(os.access(TESTHOOKS, os.X_OK), 'needs banger-signal-testhooks (-Dtest_hooks=true)')
class KilledAfterTheSignal(unittest.TestCase):
    maxDiff = None

    def pause(self, name: str, mode: int = 0o600) -> Pause:
        directory = os.path.join(SB.workspace, f'pause-audit-{name}')
        os.makedirs(directory, exist_ok=True)
        p = Pause(directory, 'signalled', mode=mode)
        self.addCleanup(p.close)
        return p

    def assertOnRecord(self, mark: int, vm: sandbox.Target, door: str) -> None:
        """The VM got TERM, the line before it is in the log, and no outcome line is."""
        self.assertTrue(vm.gone_within(5), 'the VM did not get its TERM')
        SB.syslog.sync()
        lines = [rec.message for rec in SB.syslog.since(mark, 'banger-signal') if f' pid={vm.pid} ' in rec.message]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(' signal=TERM event=sending ', lines[0])
        self.assertIn(f' door={door} ', lines[0])
        self.assertIn(f'caller_uid={SB.member.uid if door == "socket" else 0} ', lines[0])

    def test_root_call(self):
        vm = SB.spawn_vm()
        pause = self.pause('root')
        mark = SB.syslog.mark()
        p = subprocess.Popen([TESTHOOKS, '--pid', str(vm.pid)], env={'PATH': sandbox.USER_PATH, **pause.env},
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(p.wait, 10)
        pause.wait(p)
        p.kill()                      # cgroup.kill, at the worst moment
        self.assertEqual(p.wait(10), -signal.SIGKILL)
        self.assertOnRecord(mark, vm, 'root')

    def test_socket_door(self):
        vm = SB.spawn_vm()
        pause = self.pause('socket', mode=0o666)
        SB.stop_door()
        self.addCleanup(SB.stop_door)
        SB.start_door(binary=TESTHOOKS, env=pause.env)
        mark = SB.syslog.mark()
        caller = subprocess.Popen(SB.as_user_argv(SB.member, [SB.installed_binary, '--door', 'socket', '--pid',
                                                              str(vm.pid)]),
                                  env=SB.user_env(SB.member), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        pause.wait()
        [instance] = SB.door.instances()
        os.kill(instance, signal.SIGKILL)
        _, err = caller.communicate(timeout=30)
        self.assertEqual(caller.returncode, 9, err)   # the instance is gone, unanswered
        self.assertIn('without an answer', err)
        self.assertOnRecord(mark, vm, 'socket')


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
