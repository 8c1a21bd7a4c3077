#!/usr/bin/env python3
"""The test library itself: what it reads from mountinfo and /proc, and how it spawns.

A harness that misreads the host fails every test for the wrong reason, or passes
them for one: these checks run without root, on recorded mountinfo (tests/fixtures)
and on processes of our own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unittest

from banger_test import cgroups, codes, procfs
from banger_test.spawn import SpawnError, spawn

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'fixtures')
ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
READY = 'import os; os.write(int(os.environ["STANDIN_READY_FD"]), b"ready\\n"); import time; time.sleep(60)'


def fixture(name: str) -> str:
    with open(os.path.join(FIXTURES, name), encoding='utf-8') as f:
        return f.read()


class Mountinfo(unittest.TestCase):

    def test_octal_escapes(self):
        self.assertEqual(cgroups.unescape_mountinfo(r'/mnt/my\040cgroups'), '/mnt/my cgroups')
        self.assertEqual(cgroups.unescape_mountinfo(r'/a\011b\012c\134d'), '/a\tb\nc\\d')
        # Not an octal escape: left as it is.
        self.assertEqual(cgroups.unescape_mountinfo(r'/a\09x\4'), r'/a\09x\4')

    def test_escaped_mount_point(self):
        m = cgroups.cgroup2_mount(cgroups.cgroup_mounts(fixture('mountinfo-escaped.txt')))
        self.assertEqual((m.point, m.root, m.fstype), ('/mnt/my cgroups', '/', 'cgroup2'))

    def test_unified(self):
        mounts = cgroups.cgroup_mounts(fixture('mountinfo-unified.txt'))
        self.assertEqual(cgroups.cgroup2_mount(mounts).point, '/sys/fs/cgroup')
        self.assertIsNone(cgroups.v1_systemd_mount(mounts))

    def test_hybrid(self):
        mounts = cgroups.cgroup_mounts(fixture('mountinfo-hybrid.txt'))
        self.assertEqual(cgroups.cgroup2_mount(mounts).point, '/sys/fs/cgroup/unified')
        self.assertEqual(cgroups.v1_systemd_mount(mounts).point, '/sys/fs/cgroup/systemd')

    def test_legacy(self):
        mounts = cgroups.cgroup_mounts(fixture('mountinfo-legacy.txt'))
        self.assertIsNone(cgroups.cgroup2_mount(mounts))
        self.assertEqual(cgroups.v1_systemd_mount(mounts).point, '/sys/fs/cgroup/systemd')

    def test_whole_hierarchy_preferred(self):
        text = ('50 1 0:30 /sub /mnt/part rw - cgroup2 cgroup2 rw\n'
                '51 1 0:30 / /mnt/whole rw - cgroup2 cgroup2 rw\n')
        m = cgroups.cgroup2_mount(cgroups.cgroup_mounts(text))
        self.assertEqual((m.point, m.root), ('/mnt/whole', '/'))
        m = cgroups.cgroup2_mount(cgroups.cgroup_mounts(text.split('\n', 1)[0]))
        self.assertEqual((m.point, m.root), ('/mnt/part', '/sub'))


class CgroupTree(unittest.TestCase):

    def setUp(self):
        mount = cgroups.cgroup2_mount()
        if os.geteuid() != 0 or mount is None or not os.access(mount.point, os.W_OK):
            self.skipTest('needs root and a writable cgroup2 mount')
        self.top = os.path.join(mount.point, f'banger-lib-test-{os.getpid()}')
        self.addCleanup(cgroups.remove_tree, self.top)

    def test_remove_tree_kills_and_removes(self):
        deep = os.path.join(self.top, 'a', 'b')
        os.makedirs(deep)
        os.makedirs(os.path.join(self.top, 'c'))
        p = spawn(['sleep', '60'], join=[os.path.join(deep, 'cgroup.procs')], env=ENV,
                  ready=False)
        self.assertTrue(procfs.proc_cgroup(p.pid).endswith(f'/banger-lib-test-{os.getpid()}/a/b'))
        self.assertTrue(cgroups.populated(self.top))
        self.assertEqual(cgroups.remove_tree(self.top), [])
        self.assertFalse(os.path.exists(self.top))
        self.assertEqual(p.wait(timeout=10), -signal.SIGKILL)
        self.assertEqual(cgroups.remove_tree(self.top), [])   # gone already: nothing to do


class Proc(unittest.TestCase):

    def test_own_process(self):
        self.assertTrue(procfs.pid_exists(os.getpid()))
        self.assertIn(procfs.proc_state(os.getpid()), ('R', 'S'))
        self.assertGreater(procfs.start_time(os.getpid()), 0)
        self.assertEqual(procfs.exe_of(os.getpid()), os.path.realpath(sys.executable))

    def test_zombie_then_gone(self):
        p = subprocess.Popen(['sh', '-c', 'exit 3'])
        deadline = time.monotonic() + 10
        while not procfs.gone_or_zombie(p.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(procfs.proc_state(p.pid), 'Z')
        self.assertEqual(p.wait(), 3)
        self.assertIsNone(procfs.proc_state(p.pid))
        self.assertFalse(procfs.pid_exists(p.pid))
        self.assertTrue(procfs.gone_or_zombie(p.pid))


class Spawn(unittest.TestCase):

    def start(self, argv, **kw):
        p = spawn(argv, env=ENV, **kw)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
        return p

    def test_ready(self):
        for threads in (False, True):
            with self.subTest(threads=threads):
                p = self.start([sys.executable, '-c', READY], threads=threads)
                self.assertIsNone(p.poll())
                self.assertEqual(procfs.exe_of(p.pid), os.path.realpath(sys.executable))

    def test_argv0_and_executable(self):
        for threads in (False, True):
            with self.subTest(threads=threads):
                p = self.start(['firecracker', '-c', READY], executable=sys.executable,
                               threads=threads)
                with open(f'/proc/{p.pid}/cmdline', 'rb') as f:
                    self.assertEqual(f.read().split(b'\0')[0], b'firecracker')

    def test_not_waiting_for_ready(self):
        for threads in (False, True):
            with self.subTest(threads=threads):
                p = self.start(['sleep', '60'], ready=False, threads=threads)
                self.assertTrue(procfs.exe_of(p.pid).endswith('/sleep'))

    def test_no_core_files(self):
        p = self.start([sys.executable, '-c', READY])
        with open(f'/proc/{p.pid}/limits', encoding='ascii') as f:
            core = next(ln for ln in f if ln.startswith('Max core file size'))
        self.assertEqual(core.split()[4:6], ['0', '0'])

    def test_exits_before_ready(self):
        for threads in (False, True):
            with self.subTest(threads=threads), self.assertRaises(SpawnError) as cm:
                spawn(['sh', '-c', 'echo nope >&"$STANDIN_READY_FD"; exit 4'], env=ENV,
                      threads=threads)
            self.assertIn("b'nope\\n'", str(cm.exception))

    def test_never_ready_is_killed(self):
        with self.assertRaises(SpawnError):
            spawn(['sleep', '60'], env=ENV, timeout=0.3)

    def test_missing_program(self):
        with self.assertRaises(OSError):
            spawn(['/nonexistent/x'], env=ENV)
        with self.assertRaisesRegex(SpawnError, 'exec /nonexistent/x'):
            spawn(['/nonexistent/x'], env=ENV, threads=True)


class Syslog(unittest.TestCase):

    def test_parse(self):
        from banger_test.sandbox.syslog import parse_syslog
        r = parse_syslog(b'<84>Dec  1 08:00:00 banger-signal[42]: pid=7 outcome=delivered\n')
        self.assertEqual((r.facility, r.severity, r.ident, r.pid, r.message),
                         (10, 4, 'banger-signal', 42, 'pid=7 outcome=delivered'))
        r = parse_syslog(b'<86>pkexec: bsother: not authorized\0')
        self.assertEqual((r.ident, r.pid, r.message), ('pkexec', None, 'bsother: not authorized'))
        r = parse_syslog(b'no priority')
        self.assertEqual((r.facility, r.message), (None, 'no priority'))


class Codes(unittest.TestCase):

    def test_every_code_named(self):
        self.assertEqual(codes.CONTRACT_CODES, {0, 2, 3, 4, 5, 6, 7, 8, 9, 10})
        self.assertEqual(len({c.name for c in codes.TABLE}), len(codes.TABLE))
        self.assertEqual(codes.meaning(10), '10 (still running after a wait)')
        self.assertIn('not an exit code', codes.meaning(1))


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *_: os._exit(128 + signal.SIGTERM))
    unittest.main(verbosity=2)
