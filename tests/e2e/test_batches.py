#!/usr/bin/env python3
"""End-to-end: large batches through the real pkexec, polkitd and system bus.

One call checks every target with polkitd. The system bus lets one connection have
at most 128 replies pending (dbus-daemon's max_replies_per_connection): a client that
sends more checks at once gets LimitsExceeded for the rest, and those targets would be
refused although the rules allow them. These tests prove that a member's call with
more targets than that delivers to every one of them.

Run by `meson test` (suite e2e) as root, like test_polkit.py; the targets are sleeping
processes in a sub-cgroup of bangerd's service cgroup (rule 1 accepts any process
there), forked by one helper (banger_test.sandbox.Flock) so that thousands start in
seconds.
"""

from __future__ import annotations

import json
import sys
import unittest

from banger_test import sandbox
from banger_test.codes import OK

SB: sandbox.Sandbox  # set in main() before the tests run

class LargeBatches(unittest.TestCase):
    maxDiff = None

    def deliver_all(self, name: str, count: int, extra: list[str]) -> None:
        # N sleeping processes in their own cgroup below the service cgroup.
        with sandbox.Flock(SB, count, f'{SB.service_cgroup}/{name}') as flock:
            args = [a for pid in flock.pids for a in ('--pid', str(pid))]
            r = SB.run_as(SB.member, [sandbox.PKEXEC, SB.installed_binary, *args, '--json',
                                      *extra], timeout=300)
            lines = [json.loads(line) for line in r.stdout.splitlines()]
            refused = [line for line in lines if line['code'] != OK]
            self.assertEqual(refused[:3], [], r.describe()[:4000])
            self.assertEqual(sorted(line['pid'] for line in lines), sorted(flock.pids))
            self.assertEqual(r.returncode, OK, r.describe()[:4000])
            self.assertEqual(flock.alive_after(30), [])

    def test_200_targets_all_delivered(self):
        self.deliver_all('batch-200', 200, [])

    def test_200_targets_with_kill_after(self):
        # --kill-after checks two actions per target (send and kill): 400 checks.
        self.deliver_all('batch-200-kill-after', 200, ['--kill-after', '10'])

    def test_4096_targets_all_delivered(self):
        # The most one call takes (kMaxPidsPerCall).
        self.deliver_all('batch-4096', 4096, [])


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
