#!/usr/bin/env python3
"""Least privilege, observed from outside while banger-signal runs.

banger-signal-testhooks (same main, plus pause points) is paused right after
it pinned its target; its /proc/<pid>/status and fd table are read then.
Exits 77 without test hooks, root or a writable cgroup2 mount.
"""

import os
import pwd

from banger_test import helper_user
from banger_test.codes import OK
import adversarial
from adversarial import EXPECTED_CAPS, fd_table, read_status

TESTHOOKS = None


class WhilePaused(adversarial.AdversarialTestCase):

    def setUp(self):
        super().setUp()
        self.target = self.victim(cgroup=self.s.service)

    def _own_fds_only(self, table, pid, pause):
        # What banger-signal opened itself by the time it pinned its target:
        # /proc, the pidfd, and the target's /proc/<pid> directory; and the
        # test hook its FIFOs while it pauses.
        allowed = {"/proc", f"/proc/{pid}", "anon_inode:[pidfd]",
                   pause.base + ".paused", pause.base + ".resume"}
        for fd, target in table.items():
            if fd <= 2:
                continue
            self.assertIn(target, allowed, f"fd {fd} -> {target!r} was not opened by banger-signal "
                                           f"for its checks (fd table {table})")

    def test_capabilities_and_no_new_privs(self):
        p, pause = self.start_paused(TESTHOOKS, "pinned", "--pid", self.target.pid)
        status = read_status(p.pid)
        # No longer root: the helper user, for every id, with no supplementary group;
        # only three capabilities.
        helper = pwd.getpwnam(helper_user.name())
        self.assertEqual(status["Uid"].split(), [str(helper.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(helper.pw_gid)] * 4)
        self.assertEqual(status["Groups"].split(), [])
        self.assertEqual(int(status["CapEff"], 16), EXPECTED_CAPS,
                         f"CapEff {status['CapEff']}, want {EXPECTED_CAPS:016x}")
        self.assertEqual(int(status["CapPrm"], 16), EXPECTED_CAPS,
                         f"CapPrm {status['CapPrm']}, want {EXPECTED_CAPS:016x}")
        self.assertEqual(int(status["CapInh"], 16), 0, f"CapInh {status['CapInh']}")
        self.assertEqual(int(status["CapBnd"], 16), 0, f"CapBnd {status['CapBnd']}")
        self.assertEqual(int(status["CapAmb"], 16), 0, f"CapAmb {status['CapAmb']}")
        self.assertEqual(status["NoNewPrivs"], "1")
        # And its seccomp filter (sys/confine.hpp): ptrace, exec, opening for writing.
        self.assertEqual(status["Seccomp"], "2", f"Seccomp {status['Seccomp']}")
        # The capabilities it kept are enough: the call completes.
        r = self.finish(p, pause)
        self.assertExit(r, OK)
        self.assertReceived(self.target, 15, "(TERM, delivered after the pause)")

    def test_capabilities_at_judged(self):
        # After the judgement (and any library it loaded) the set is unchanged.
        p, pause = self.start_paused(TESTHOOKS, "judged", "--pid", self.target.pid, "--dry-run")
        status = read_status(p.pid)
        self.assertEqual(int(status["CapEff"], 16), EXPECTED_CAPS)
        self.assertEqual(int(status["CapPrm"], 16), EXPECTED_CAPS)
        self.assertEqual(int(status["CapBnd"], 16), 0)
        self.assertEqual(status["NoNewPrivs"], "1")
        r = self.finish(p, pause)
        self.assertExit(r, OK)
        self.assertUntouched(self.target, "(--dry-run)")

    def test_inherited_fds_are_closed(self):
        fd, path = self.canary()
        high = os.dup(fd)
        os.dup2(fd, 200)  # a high number as well: close_range must reach it
        self.addCleanup(os.close, high)
        self.addCleanup(os.close, 200)
        p, pause = self.start_paused(TESTHOOKS, "pinned", "--pid", self.target.pid,
                                     pass_fds=(fd, high, 200))
        table = fd_table(p.pid)
        self.assertNotIn(path, table.values(), f"inherited fd survived: {table}")
        self.assertNotIn(200, table, f"inherited fd 200 survived: {table}")
        self.assertEqual(sorted(k for k in table if k <= 2), [0, 1, 2])
        self._own_fds_only(table, self.target.pid, pause)
        r = self.finish(p, pause)
        self.assertExit(r, OK)

    def test_closed_stdio_reopened_on_dev_null(self):
        # With 0, 1 and 2 closed by the caller, the first files banger-signal
        # opens would become its stdin/stdout/stderr; they must be /dev/null.
        fd, path = self.canary()
        p, pause = self.start_paused(
            TESTHOOKS, "pinned", "--pid", self.target.pid, "--json", "--verbose",
            stdin=None, stdout=None, stderr=None, pass_fds=(fd,),
            preexec_fn=lambda: [os.close(n) for n in (0, 1, 2)])
        table = fd_table(p.pid)
        for n in (0, 1, 2):
            self.assertEqual(table.get(n), "/dev/null", f"fd {n} is not /dev/null: {table}")
        self.assertNotIn(path, table.values())
        self._own_fds_only(table, self.target.pid, pause)
        pause.resume()
        self.assertEqual(p.wait(timeout=adversarial.harness.RUN_TIMEOUT), OK)
        self.assertReceived(self.target, 15)
        self.assertEqual(os.path.getsize(path), 0, "output landed in an inherited file")


if __name__ == "__main__":
    TESTHOOKS = adversarial.testhooks_or_skip()
    adversarial.main()
