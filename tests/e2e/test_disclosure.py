#!/usr/bin/env python3
"""End-to-end: a refused target reveals nothing its caller could not read (issue 12, item 5).

A group member asks `pkexec banger-signal --dry-run --json` about processes that are
not its own: polkitd (root, /usr/lib/polkit-1/polkitd, moved into a cgroup with a
name of its own so that a leaked cgroup would show) and a root "firecracker" that
claims an api socket in the runtime dir without serving it. The answer is 4 with
exe, cgroup and api_sock null, and neither the reason on stdout nor the line on
stderr names them; root's audit line keeps all of it. The control: a process of
the member's own is still shown in full.

Run by `meson test` (suite e2e) as root in the sandbox of banger_test.sandbox; exits
77 (skipped) when the sandbox cannot run. Environment as for test_polkit.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import unittest

from banger_test import procfs, sandbox
from banger_test.codes import NOT_MANAGED
from banger_test.sandbox.base import POLKITD

SB: sandbox.Sandbox  # set in main() before the tests run


class RefusedTargets(unittest.TestCase):
    maxDiff = None

    def call(self, args: list[str]) -> sandbox.Result:
        return SB.pkexec(SB.member, args)

    def ask(self, pid: int) -> tuple[sandbox.Result, dict]:
        """A member's dry run about `pid`: (result, its one JSON object)."""
        assert SB.member
        r = self.call(['--dry-run', '--json', '--pid', str(pid)])
        self.assertEqual(r.returncode, NOT_MANAGED, '\n' + r.describe())
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, '\n' + r.describe())
        obj = json.loads(lines[0])
        self.assertEqual((obj['pid'], obj['code'], obj['outcome']), (pid, 4, 'not-managed'),
                         r.describe())
        return r, obj

    def audit_line(self, r: sandbox.Result, pid: int) -> str:
        hits = [rec.message for rec in r.audit() if f' pid={pid} ' in rec.message]
        self.assertEqual(len(hits), 1, '\n' + r.describe())
        return hits[0]

    def assertHidden(self, r: sandbox.Result, obj: dict, secrets: list[str]) -> None:
        for field in ('exe', 'cgroup', 'api_sock'):
            self.assertIsNone(obj[field], f'{field} of a process that is not the caller\'s '
                                          f'own is shown: {obj[field]!r}\n' + r.describe())
        for secret in secrets:
            self.assertNotIn(secret, obj['reason'], '\n' + r.describe())
            self.assertNotIn(secret, r.stderr, '\n' + r.describe())
        self.assertTrue(r.stderr.strip(), 'the refusal must still be on stderr\n' + r.describe())

    def test_polkitd_is_not_shown(self):
        polkitd = SB.polkit.polkitd
        assert polkitd is not None
        # In a cgroup of a name of its own for the call (the harness's may be "/"),
        # then back where it was.
        home = procfs.proc_cgroup(polkitd.pid)
        assert home is not None
        cgroup = f'{SB.cgroup_base}/polkitd-disclosure.scope'
        os.makedirs(SB.cgroup_dir(cgroup), exist_ok=True)
        self._move(polkitd.pid, cgroup)
        self.addCleanup(self._move, polkitd.pid, home)
        self.assertEqual(procfs.exe_of(polkitd.pid), POLKITD)

        r, obj = self.ask(polkitd.pid)
        self.assertHidden(r, obj, [POLKITD, os.path.basename(POLKITD), cgroup,
                                   'polkitd-disclosure'])
        # Root's log keeps what was found.
        line = self.audit_line(r, polkitd.pid)
        self.assertIn(f' exe="{POLKITD}" ', line)
        self.assertIn(f' cgroup="{cgroup}" ', line)

    def test_claimed_api_socket_is_not_shown(self):
        # Root's firecracker outside the service cgroup, claiming a socket it does not serve.
        claim = 'not-yours.sock'
        stranger = SB.spawn_vm(cgroup=SB.foreign_cgroup, api_sock=claim,
                               env={'STANDIN_NO_BIND': '1'})
        sock = os.path.join(SB.runtime_dir, claim)
        r, obj = self.ask(stranger.pid)
        self.assertHidden(r, obj, [sock, claim, SB.foreign_cgroup, SB.standin])
        line = self.audit_line(r, stranger.pid)
        self.assertIn(f' exe="{SB.standin}" ', line)
        self.assertIn(f' cgroup="{SB.foreign_cgroup}" ', line)
        self.assertTrue(stranger.still_alive_after())

    def test_own_process_is_shown(self):
        # The control: what the member could read itself is still shown.
        assert SB.member
        sleep = os.path.realpath(shutil.which('sleep') or '/bin/sleep')
        p = subprocess.Popen(SB.as_user_argv(SB.member, [sleep, 'infinity']),
                             env=SB.user_env(SB.member), cwd='/', stdin=subprocess.DEVNULL)
        self.addCleanup(p.wait, 5)
        self.addCleanup(p.kill)
        deadline = time.monotonic() + 5
        while procfs.exe_of(p.pid) != sleep:
            self.assertLess(time.monotonic(), deadline, 'sleep did not start')
            time.sleep(0.01)
        r, obj = self.ask(p.pid)
        self.assertEqual(obj['exe'], sleep, r.describe())
        self.assertEqual(obj['cgroup'], procfs.proc_cgroup(p.pid), r.describe())
        self.assertIn(sleep, obj['reason'], r.describe())
        self.assertIn(sleep, r.stderr, r.describe())

    @staticmethod
    def _move(pid: int, cgroup: str) -> None:
        with open(os.path.join(SB.cgroup_dir(cgroup), 'cgroup.procs'), 'w', encoding='ascii') as f:
            f.write(str(pid))


class RefusedTargetsThroughSocket(RefusedTargets):
    """The same through the socket door: the instance knows the peer's uid from the
    kernel, and hides from it what it hides from pkexec's caller."""

    @classmethod
    def setUpClass(cls):
        SB.start_door()

    @classmethod
    def tearDownClass(cls):
        SB.stop_door()

    def call(self, args: list[str]) -> sandbox.Result:
        r = SB.through_socket(SB.member, args)
        self.assertEqual(json.loads(r.stdout.splitlines()[0])['door'], 'socket', r.describe())
        return r


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
