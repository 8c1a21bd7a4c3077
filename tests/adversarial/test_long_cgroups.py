#!/usr/bin/env python3
"""Hostile targets: cgroup paths at and beyond PATH_MAX - 1, the longest the
kernel shows whole in /proc/<pid>/cgroup, and what its cut leaves.

Each test asserts the documented outcome (banger-signal(8), ACCEPTANCE
RULES) and that nobody else was signalled.
Exits 77 when not root or without a writable cgroup2 mount.
"""

import os
import signal
import sys

from banger_test import procfs
from banger_test.codes import NOT_MANAGED, OK, SYSTEM_ERROR
import adversarial

NAME_MAX = 255


class LongCgroupPaths(adversarial.AdversarialTestCase):
    """Cgroup paths at and beyond PATH_MAX - 1, the longest /proc shows whole."""

    def deep_cgroup(self, length, last=None):
        """A cgroup below the service cgroup whose path has `length` chars.

        Built with *at() calls: the filesystem path is longer than PATH_MAX.
        `last`, if given, is the name of one more cgroup below it.
        Returns (path as /proc shows it, fd of the innermost directory).
        """
        top = self.s.cgroup(self.s.service.split("/", 2)[2] + f"/deep{len(self._outcomes)}")
        path = top
        fds = [os.open(self.s.v2_mount + top, os.O_RDONLY | os.O_DIRECTORY)]
        made = []  # (parent fd, name), innermost last

        def cleanup():
            for parent, name in reversed(made):
                try:
                    os.rmdir(name, dir_fd=parent)
                except OSError as e:
                    print(f"warning: cannot remove deep cgroup: {e}", file=sys.stderr)
            for fd in fds:
                os.close(fd)
        self.addCleanup(cleanup)

        def mkdir(name):
            nonlocal path
            os.mkdir(name, dir_fd=fds[-1])
            made.append((fds[-1], name))
            fds.append(os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fds[-1]))
            path += "/" + name

        while len(path) < length:
            mkdir("a" * min(NAME_MAX, length - len(path) - 1))
        if last is not None:
            mkdir(last)
        return path, fds[-1]

    def vm_in(self, dir_fd):
        """A stand-in moved into the cgroup open at dir_fd; killed before rmdir."""
        fc = self.firecracker(cgroup=self.s.service)
        self.addCleanup(lambda: (fc.poll() is None and fc.kill(), fc.wait()))
        fd = os.open("cgroup.procs", os.O_WRONLY, dir_fd=dir_fd)
        try:
            os.write(fd, str(fc.pid).encode())
        finally:
            os.close(fd)
        return fc

    @property
    def _outcomes(self):
        self.__dict__.setdefault("_deep", [])
        self._deep.append(None)
        return self._deep

    def kernel_view(self, pid):
        try:
            return procfs.proc_cgroup(pid, "0")
        except OSError as e:
            return e

    def test_longest_path_shown_whole_is_accepted(self):
        path, fd = self.deep_cgroup(4095)
        fc = self.vm_in(fd)
        self.assertEqual(self.kernel_view(fc.pid), path)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual((obj["match"], obj["cgroup"]), ("cgroup", path))
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_longer_than_the_kernel_shows(self):
        path, fd = self.deep_cgroup(9000)
        fc = self.vm_in(fd)
        seen = self.kernel_view(fc.pid)
        r = self.run_bs("--pid", fc.pid, "--json")
        if isinstance(seen, OSError):
            # Older kernels fail the read (ENAMETOOLONG): unreadable, so
            # refused; nothing is sent.
            self.assertIn(r.returncode, (NOT_MANAGED, SYSTEM_ERROR), self.describe(r))
            self.assertAlive(fc)
            return
        # Newer kernels cut the path to 4095 characters. A prefix of a path
        # below the service cgroup is below it too: accepting is right.
        self.assertEqual(len(seen), 4095)
        self.assertTrue(path.startswith(seen))
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["cgroup"], seen)
        self.assertDiedOf(fc, signal.SIGTERM)

    def _truncating_kernel_or_skip(self, fc):
        seen = self.kernel_view(fc.pid)
        if isinstance(seen, OSError) or len(seen) != 4095:
            self.skipTest("this kernel does not truncate long cgroup paths")
        return seen

    def test_cut_after_a_slash_is_refused(self):
        # The kernel's cut leaves a trailing "/": not a normalized path.
        path, fd = self.deep_cgroup(4094, last="tail")
        fc = self.vm_in(fd)
        seen = self._truncating_kernel_or_skip(fc)
        self.assertTrue(seen.endswith("/"), seen[-20:])
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_cut_after_a_deleted_mark_is_refused(self):
        # A live cgroup "x (deleted)" whose mark ends exactly where the kernel
        # cuts: indistinguishable from a removed cgroup, so refused.
        mark = "x (deleted)"
        path, fd = self.deep_cgroup(4095 - len(mark) - 1, last=mark + "y")
        fc = self.vm_in(fd)
        seen = self._truncating_kernel_or_skip(fc)
        self.assertTrue(seen.endswith("/" + mark), seen[-20:])
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)


if __name__ == "__main__":
    adversarial.main()
