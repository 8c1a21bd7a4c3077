"""Every call ends: the judging deadline, with a real file system that never answers
(banger_test.stallfs, FUSE served from this test), the same cases through either door
(test_polkit.py: pkexec, and root's own call, which shares its recipe; test_socket_door.py:
the socket).

Two ways a target's owner might make judging wait on a FUSE server that never answers:
- its argument pages mapped from a file of it: the kernel (since 4.18, the fix of
  CVE-2018-1120) does not read file-backed pages for /proc/<pid>/cmdline, so nothing
  waits; the call is judged at once;
- an api socket claimed below the runtime dir, where the server is mounted: the lookup
  of that path waits for good (and, once the call is killed, the kernel waits on, for
  the server's answer). The judging deadline answers the call at 10 s, with 9, and logs
  the pid it was reading; the process itself ends when the server does.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time

from banger_test import sandbox
from banger_test.codes import OK, SYSTEM_ERROR
from banger_test.stallfs import StallFs

JUDGING_LIMIT = 10.0  # seconds (flow.cpp kJudgingLimit; banger-signal(8))


class Stalled:
    """What a stalled call came to: the answer, when it came, and the log meanwhile."""

    def __init__(self, returncode: int, stdout: str, stderr: str, answered_after: float,
                 log: list):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.answered_after = answered_after
        self.log = log

    def audit(self) -> list[str]:
        return [r.message for r in self.log if r.ident == 'banger-signal']

    def describe(self) -> str:
        return '\n'.join([f'exit {self.returncode} after {self.answered_after:.1f} s',
                          *[f'  stdout: {ln}' for ln in self.stdout.splitlines()],
                          *[f'  stderr: {ln}' for ln in self.stderr.splitlines()],
                          *[f'  audit: {ln}' for ln in self.audit()]])


class StallCases:
    """Mixed into a unittest.TestCase that defines sb(), call(user, args) (a whole call,
    as the door's caller makes it) and stalled_call(fs, args) (a call that will stall
    on `fs`: answered, then `fs` aborted so that the call's process can end)."""

    def sb(self) -> sandbox.Sandbox:
        raise NotImplementedError

    def call(self, user, args: list[str]) -> sandbox.Result:
        raise NotImplementedError

    def stalled_call(self, fs: StallFs, args: list[str]) -> Stalled:
        raise NotImplementedError

    def caller_uid(self) -> int:
        """Whose call the audit names: the member's, unless the door's call is root's."""
        return self.sb().member.uid

    def stallfs(self, name: str) -> StallFs:
        fs = StallFs(os.path.join(self.sb().runtime_dir, name))
        fs.__enter__()
        self.addCleanup(fs.abort)
        return fs

    def test_arguments_on_a_file_that_never_answers_stall_nothing(self):
        sb = self.sb()
        fs = self.stallfs('stall-args')
        sock = os.path.join(sb.runtime_dir, 'stall-args-vm.sock')
        vm = sb.spawn(sb.standin, ['--api-sock', sock, 'x' * 20000], cgroup=sb.foreign_cgroup,
                      env={'STANDIN_ARGS_ON': fs.args})
        started = time.monotonic()
        r = self.call(sb.member, ['--pid', str(vm.pid), '--json'])
        took = time.monotonic() - started
        # The kernel read what lies before the file's pages, and never asked the file.
        self.assertEqual(r.returncode, OK, r.describe())
        self.assertTrue(vm.gone_within(5), r.describe())
        self.assertNotIn('read', fs.events, r.describe())
        self.assertLess(took, JUDGING_LIMIT, r.describe())

    def test_a_lookup_that_never_ends_ends_the_call_at_the_deadline(self):
        sb = self.sb()
        fs = self.stallfs('stall')
        stuck = sb.spawn(sb.standin, ['--api-sock', os.path.join(fs.mountpoint, 'vm.sock')],
                         cgroup=sb.foreign_cgroup, env={'STANDIN_NO_BIND': '1'})
        vm = sb.spawn_vm()
        # Without a deadline the call would wait for good: the server ends at 30 s regardless.
        backstop = threading.Timer(JUDGING_LIMIT + 20, fs.abort)
        backstop.start()
        self.addCleanup(backstop.cancel)
        s = self.stalled_call(fs, ['--pid', str(vm.pid), '--pid', str(stuck.pid), '--json'])
        self.assertTrue(fs.wait_for('lookup vm.sock', 0), s.describe())
        # Answered at the deadline, not before, and long before the call's own limits.
        self.assertGreaterEqual(s.answered_after, JUDGING_LIMIT, s.describe())
        self.assertLess(s.answered_after, JUDGING_LIMIT + 8, s.describe())
        self.assertEqual(s.returncode, SYSTEM_ERROR, s.describe())
        objs = [json.loads(line) for line in s.stdout.splitlines()]
        self.assertEqual([(o['pid'], o['code']) for o in objs],
                         [(vm.pid, SYSTEM_ERROR), (stuck.pid, SYSTEM_ERROR)], s.describe())
        self.assertIn("a target's facts could not be read within 10 s", objs[0]['reason'])
        self.assertIn('nothing was signalled', objs[0]['reason'])
        # Nothing was signalled: judging comes before any signal.
        self.assertTrue(vm.still_alive_after(), s.describe())
        self.assertTrue(stuck.still_alive_after(), s.describe())
        # The log names the process that stalled it, and the caller.
        stalled = [ln for ln in s.audit() if ' event=stalled ' in ln]
        self.assertEqual(len(stalled), 1, s.describe())
        self.assertRegex(stalled[0], rf' pid={stuck.pid} event=stalled limit_ms=10000 ')
        self.assertRegex(stalled[0], rf'\bcaller_uid={self.caller_uid()}\b')
        self.assertFalse([ln for ln in s.audit() if ' event=sending ' in ln], s.describe())
        for pid in (vm.pid, stuck.pid):
            self.assertTrue([ln for ln in s.audit() if re.search(rf' pid={pid} .*outcome=system-error ', ln)],
                            s.describe())
