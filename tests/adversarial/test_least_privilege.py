#!/usr/bin/env python3
"""Least privilege, observed from outside while banger-signal runs.

banger-signal-testhooks (same main, plus pause points) is paused right after
it pinned its target; its /proc/<pid>/status and fd table are read then.
Exits 77 without test hooks, root or a writable cgroup2 mount.
"""

import ctypes
import os
import pwd
import resource

from banger_test import helper_user
from banger_test.codes import OK, SYSTEM_ERROR
import adversarial
from adversarial import EXPECTED_CAPS, fd_table, read_status

TESTHOOKS = None
CAP_SETGID, CAP_SETUID, CAP_SETPCAP = 6, 7, 8
CAP_KILL_ONLY = 1 << 5
PR_CAPBSET_DROP = 24


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
        # Every fact read, about to signal: CAP_KILL alone is left (issue 17, 1), and the
        # call still works with it.
        p, pause = self.start_paused(TESTHOOKS, "judged", "--pid", self.target.pid, "--dry-run")
        status = read_status(p.pid)
        self.assertEqual(int(status["CapEff"], 16), CAP_KILL_ONLY)
        self.assertEqual(int(status["CapPrm"], 16), CAP_KILL_ONLY)
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

    def test_real_time_scheduling_is_left(self):
        # A caller running under a real-time policy passes it on through exec, and with
        # it RLIMIT_RTTIME: the kernel kills a real-time task that runs that long without
        # blocking, at a moment of the caller's choosing (between a signal sent and its
        # audit line). The helper must work under the ordinary policy.
        def real_time():
            resource.setrlimit(resource.RLIMIT_RTTIME, (5_000_000, 5_000_000))
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        p, pause = self.start_paused(TESTHOOKS, "judged", "--pid", self.target.pid, "--dry-run",
                                     preexec_fn=real_time)
        self.assertEqual(os.sched_getscheduler(p.pid), os.SCHED_OTHER,
                         "the helper kept the caller's real-time policy")
        if _may_raise_limits():
            self.assertEqual(_limit(p.pid, "Max realtime timeout"), ("unlimited", "unlimited"))
        r = self.finish(p, pause)
        self.assertExit(r, OK)

    def test_capabilities_restricted_when_the_bounding_set_stays(self):
        # Root without CAP_SETPCAP (dropped from the bounding set before exec, so the
        # exec leaves it out) cannot empty the bounding set: the call is refused (9),
        # and refused with only the root step's capabilities and no_new_privs, as
        # when any other hardening step fails. Before the fix, the failed drop
        # skipped the rest: the refusal ran with all of root's other capabilities.
        libc = ctypes.CDLL(None, use_errno=True)

        def without_setpcap():
            if libc.prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) != 0:
                os._exit(126)
        p, pause = self.start_paused(TESTHOOKS, "refusing", "--pid", self.target.pid,
                                     preexec_fn=without_setpcap)
        status = read_status(p.pid)
        root_step = EXPECTED_CAPS | (1 << CAP_SETGID) | (1 << CAP_SETUID)
        self.assertEqual(int(status["CapEff"], 16), root_step, f"CapEff {status['CapEff']}")
        self.assertEqual(int(status["CapPrm"], 16), root_step, f"CapPrm {status['CapPrm']}")
        self.assertEqual(status["NoNewPrivs"], "1")
        r = self.finish(p, pause)
        self.assertExit(r, SYSTEM_ERROR)
        self.assertIn("bounding set", r.err)
        self.assertUntouched(self.target, "(refused)")

    def test_process_limit_is_lifted(self):
        # Once the helper works as its own user, every helper running counts against
        # that uid's RLIMIT_NPROC, and GLib aborts when it cannot start a thread: a
        # hard limit the caller chose must be lifted where root may.
        if not _may_raise_limits():
            self.skipTest("root here lacks CAP_SYS_RESOURCE: no limit can be raised")
        p, pause = self.start_paused(
            TESTHOOKS, "judged", "--pid", self.target.pid, "--dry-run",
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NPROC, (100, 100)))
        self.assertEqual(_limit(p.pid, "Max processes"), ("unlimited", "unlimited"))
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


def _may_raise_limits() -> bool:
    """Whether this (root) process has CAP_SYS_RESOURCE, as the helper's root would."""
    return bool(int(read_status(os.getpid())["CapEff"], 16) >> 24 & 1)


def _limit(pid: int, name: str) -> tuple[str, str]:
    """(soft, hard) of one line of /proc/<pid>/limits."""
    with open(f"/proc/{pid}/limits", encoding="ascii") as f:
        for line in f:
            if line.startswith(name):
                soft, hard = line[len(name):].split()[:2]
                return soft, hard
    raise AssertionError(f"no {name!r} in /proc/{pid}/limits")


if __name__ == "__main__":
    TESTHOOKS = adversarial.testhooks_or_skip()
    adversarial.main()
