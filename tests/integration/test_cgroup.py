#!/usr/bin/env python3
"""Acceptance by cgroup: component match on the v2 line, hybrid fallback, namespaces."""

import os
import signal
import subprocess
import sys

from banger_test import procfs
from banger_test.codes import NOT_MANAGED, OK
import harness


class CgroupMatch(harness.BangerTestCase):

    def test_service_cgroup_delivers_term_silently(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, OK)
        self.assertEqual(r.out, "", "success must be silent on stdout")
        self.assertEqual(r.err, "", "success must be silent on stderr without --verbose")
        self.assertDiedOf(vm, signal.SIGTERM)

    def test_service_cgroup_json(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual(obj["pid"], vm.pid)
        self.assertEqual(obj["code"], 0)
        self.assertEqual(obj["outcome"], "delivered")
        self.assertEqual(obj["match"], "cgroup")
        self.assertEqual(obj["cgroup"], self.s.service)
        self.assertEqual(obj["signal"], "TERM")
        self.assertIs(obj["dry_run"], False)
        self.assertDiedOf(vm, signal.SIGTERM)

    def test_nested_cgroup_accepted(self):
        for cg in (self.s.nested, self.s.nested_deep):
            with self.subTest(cgroup=cg):
                vm = self.vm(cgroup=cg)
                r = self.run_bs("--pid", vm.pid, "--json")
                self.assertExit(r, OK)
                obj = self.one_json(r)
                self.assertEqual(obj["match"], "cgroup")
                self.assertEqual(obj["cgroup"], cg)
                self.assertDiedOf(vm, signal.SIGTERM)

    def test_cgroup_match_does_not_need_firecracker_exe(self):
        # The jailer-launched VM is recognised by its cgroup alone.
        p = self.spawn(["sleep", "1000"], cgroup=self.s.service, wait_ready=False)
        r = self.run_bs("--pid", p.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(p, signal.SIGTERM)

    def _refused(self, cgroup):
        vm = self.vm(cgroup=cgroup)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 1, f"one stderr line per failed pid: {r.err!r}")
        self.assertTrue(lines[0].startswith(f"banger-signal: pid {vm.pid}: "), lines[0])
        # The reason names what was found and what was required.
        self.assertIn(cgroup, lines[0])
        self.assertIn(self.s.service, lines[0])
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, NOT_MANAGED)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "not-managed")
        self.assertEqual(obj["code"], NOT_MANAGED)
        self.assertIsNone(obj["match"])
        self.assertEqual(obj["cgroup"], cgroup)
        self.assertAlive(vm)

    def test_spoofed_user_service_refused(self):
        self._refused(self.s.spoofed)

    def test_prefix_extended_name_refused(self):
        self._refused(self.s.prefix_extended)

    def test_parent_slice_refused(self):
        self._refused(self.s.parent_slice)

    def test_test_root_refused(self):
        self._refused(self.s.root)

    def test_foreign_cgroup_refused(self):
        self._refused(self.s.foreign)

    def test_colon_in_cgroup_name(self):
        # ':' is legal in cgroup names; the line is split on the first two only.
        colon = self.s.cgroup("system.slice/bangerd:root.service")
        config = self.s.write_config(runtime_dir=self.s.runtime_dir, service_cgroup=colon)
        vm = self.vm(cgroup=colon)
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)
        # And the same process shape is refused under the ordinary config.
        vm = self.vm(cgroup=colon)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)

    def test_no_config_uses_default_service_cgroup(self):
        if os.path.lexists("/etc/banger/install.toml"):
            self.skipTest("/etc/banger/install.toml exists on this host")
        # Default service_cgroup is /system.slice/bangerd-root.service: our
        # test service cgroup is not it.
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=None)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)

    def test_thread_id_refused(self):
        # A thread that is not a thread-group leader is not a process to signal.
        script = ("import os, threading, time\n"
                  "ev = threading.Event()\n"
                  "def run():\n"
                  "    os.write(1, b'%d\\n' % threading.get_native_id())\n"
                  "    ev.wait()\n"
                  "threading.Thread(target=run, daemon=True).start()\n"
                  "time.sleep(1000)\n")
        p = self.spawn([sys.executable, "-c", script], cgroup=self.s.service,
                       wait_ready=False, stdout=subprocess.PIPE)
        tid = int(p.stdout.readline())
        p.stdout.close()
        self.assertNotEqual(tid, p.pid)
        r = self.run_bs("--pid", tid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(p)
        # Control: the leader itself is accepted (same cgroup).
        r = self.run_bs("--pid", p.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(p, signal.SIGTERM)


class HybridFallback(harness.BangerTestCase):
    """On a hybrid host the name=systemd line is used when 0:: is absent or "/"."""

    def setUp(self):
        super().setUp()
        if self.s.v1_systemd_mount is None:
            self.skipTest("no v1 name=systemd hierarchy (not a hybrid host)")
        self.v1_service = self.s.cgroup("system.slice/bangerd-root.service", v1=True)
        self.v1_foreign = self.s.cgroup("other.slice/foreign.scope", v1=True)

    def test_v2_root_falls_back_to_name_systemd(self):
        vm = self.vm(cgroup="", v1_cgroup=self.v1_service)  # "" = the v2 root cgroup
        self.assertEqual(procfs.proc_cgroup(vm.pid, "0"), "/")
        r = self.run_bs("--pid", vm.pid, "--json")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual(obj["match"], "cgroup")
        self.assertDiedOf(vm, signal.SIGTERM)

    def test_v2_root_and_foreign_name_systemd_refused(self):
        vm = self.vm(cgroup="", v1_cgroup=self.v1_foreign)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)

    def test_v2_line_wins_over_name_systemd(self):
        # 0:: is present and not "/": name=systemd must not be consulted.
        vm = self.vm(cgroup=self.s.foreign, v1_cgroup=self.v1_service)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)


class CgroupNamespace(harness.BangerTestCase):

    def test_own_cgroup_namespace_differs_from_pid1_refused(self):
        # banger-signal runs in a cgroup namespace rooted at /banger-test-N, so
        # the target's path /banger-test-N/system.slice/bangerd-root.service
        # reads as /system.slice/bangerd-root.service - which this config
        # names. Relative paths prove nothing: refuse.
        config = self.s.write_config(runtime_dir=self.s.runtime_dir,
                                     service_cgroup="/system.slice/bangerd-root.service")
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=config,
                        prefix=["unshare", "--cgroup"], cgroup=self.s.root)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)
        # Control: outside the namespace the same config refuses too (absolute
        # path differs), and the ordinary config accepts.
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)


if __name__ == "__main__":
    harness.main()
