#!/usr/bin/env python3
"""Protected processes (exit 6) and processes that are gone (exit 3)."""

import os
import signal
import subprocess

from banger_test import procfs
from banger_test.codes import NO_PROCESS, PROTECTED
import harness

PF_KTHREAD = 0x00200000


def stat_flags(pid):
    with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
        stat = f.read()
    # Fields after "comm)": state is field 3, flags field 9.
    return int(stat[stat.rindex(")") + 2:].split()[6])


def find_kernel_thread(exclude=(2,)):
    for name in sorted(os.listdir("/proc"), key=lambda n: (len(n), n)):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            if stat_flags(int(name)) & PF_KTHREAD:
                return int(name)
        except (OSError, ValueError):
            continue
    return None


class Protected(harness.BangerTestCase):

    def _protected(self, pid, **kw):
        r = self.run_bs("--pid", pid, **kw)
        self.assertExit(r, PROTECTED)
        self.assertTrue(r.err.startswith(f"banger-signal: pid {pid}: "), r.err)
        r = self.run_bs("--pid", pid, "--json", **kw)
        self.assertExit(r, PROTECTED)
        obj = self.one_json(r)
        self.assertEqual(obj["pid"], pid)
        self.assertEqual(obj["code"], PROTECTED)
        self.assertEqual(obj["outcome"], "protected")

    def test_pid_0(self):
        self._protected(0)

    def test_pid_1(self):
        self._protected(1)
        self.assertTrue(procfs.pid_exists(1))

    def test_kthreadd(self):
        with open("/proc/2/comm") as f:
            if f.read().strip() != "kthreadd":
                self.skipTest("pid 2 is not kthreadd here")
        self._protected(2)

    def test_other_kernel_thread(self):
        pid = find_kernel_thread()
        if pid is None:
            self.skipTest("no kernel thread visible besides kthreadd")
        self._protected(pid)
        self.assertTrue(procfs.pid_exists(pid))

    def test_caller_python(self):
        # banger-signal's parent is this test process (not in any banger
        # cgroup: without the protection the answer would be 4).
        self._protected(os.getpid())

    def test_caller_in_service_cgroup(self):
        # The caller (a shell) sits in the service cgroup and would otherwise
        # be accepted: only the getppid() protection keeps it alive.
        sh = self.spawn(["sh", "-c", '"$0" --config "$1" --pid $$; echo "rc=$?"',
                         self.bin, self.s.config],
                        cgroup=self.s.service, wait_ready=False, stdout=subprocess.PIPE)
        out, _ = sh.communicate(timeout=harness.RUN_TIMEOUT)
        self.assertEqual(sh.returncode, 0,
                         f"the caller shell ended with {sh.returncode} (killed?), out {out!r}")
        self.assertEqual(out.decode().strip(), f"rc={PROTECTED}")

    def test_self_in_service_cgroup(self):
        # exec keeps the shell's pid: banger-signal is asked to signal itself
        # while sitting in the service cgroup.
        sh = self.spawn(["sh", "-c", 'exec "$0" --config "$1" --pid $$', self.bin, self.s.config],
                        cgroup=self.s.service, wait_ready=False)
        rc = sh.wait(timeout=harness.RUN_TIMEOUT)
        self.assertEqual(rc, PROTECTED, f"banger-signal on its own pid ended with "
                                        f"{harness._rc_text(rc)}")


class Gone(harness.BangerTestCase):

    def test_reaped_pid(self):
        pid = self.reaped_pid()
        self.assertFalse(procfs.pid_exists(pid))
        r = self.run_bs("--pid", pid, "--json")
        self.assertExit(r, NO_PROCESS)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "no-such-process")
        self.assertIsNone(obj["match"])
        r = self.run_bs("--pid", pid)
        self.assertExit(r, NO_PROCESS)
        self.assertTrue(r.err.startswith(f"banger-signal: pid {pid}: "), r.err)

    def test_zombie(self):
        vm = self.vm()
        self.make_zombie(vm)
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, NO_PROCESS)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "no-such-process")
        self.assertEqual(vm.wait(timeout=5), -signal.SIGKILL)

    def test_pid_max_is_never_a_pid(self):
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        # Valid syntax (<= pid_max), but pids are always below pid_max.
        r = self.run_bs("--pid", pid_max)
        self.assertExit(r, NO_PROCESS)


if __name__ == "__main__":
    harness.main()
