#!/usr/bin/env python3
"""End-to-end: the caller's resource limits cannot crash the helper or leave a core
(issue 12, item 3).

A group member runs `prlimit --nofile=10 --core=8192 -- pkexec banger-signal ...`
(pkexec keeps rlimits), and the same with a tight RLIMIT_AS. The answer must be a
contract code, never a signal death: 9 with one line on stderr naming the limit and
the VMs untouched, because root here lacks CAP_SYS_RESOURCE and cannot raise a hard
limit (where it can, the call must work instead). And no core file: with
core_pattern "core" it would land in the crashing process's cwd, / (or pkexec's,
root's home), owned by root.

Run by `meson test` (suite e2e) as root in the sandbox of banger_test.sandbox; exits
77 (skipped) when the sandbox cannot run. Environment as for test_polkit.py.
"""

from __future__ import annotations

import os
import pwd
import sys
import unittest

from banger_test import sandbox
from banger_test.codes import CONTRACT_CODES, SYSTEM_ERROR
from banger_test.sandbox.install import meson_introspect

SB: sandbox.Sandbox  # set in main() before the tests run

CAP_SYS_RESOURCE = 24
CORE_LIMIT = '--core=8192'   # what the old helper's GLib abort left: an 8 KiB /core


def sanitizer_build() -> bool:
    opts = {o['name']: o['value'] for o in meson_introspect(SB.builddir, 'buildoptions')}
    return opts.get('b_sanitize', 'none') not in ('none', '', [], ['none'])


def root_may_raise_hard_limits() -> bool:
    with open('/proc/self/status', encoding='ascii') as f:
        eff = next(ln for ln in f if ln.startswith('CapEff:')).split()[1]
    return bool(int(eff, 16) >> CAP_SYS_RESOURCE & 1)


class CallerLimits(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        with open('/proc/sys/kernel/core_pattern', encoding='ascii') as f:
            pattern = f.read().strip()
        if pattern.startswith('|') or '/' in pattern or '%' in pattern:
            self.skipTest(f'core_pattern {pattern!r}: a core would not land in the cwd')
        # Where a core of the call could land: the helper's cwd (/) or, before it
        # got there, pkexec's (the target user's home).
        self.core_dirs = ['/', pwd.getpwuid(0).pw_dir]
        for d in self.core_dirs:
            if os.path.lexists(os.path.join(d, pattern)):
                self.skipTest(f'{os.path.join(d, pattern)} exists already')
        self.pattern = pattern
        self.vms = [SB.spawn_vm(), SB.spawn_vm()]

    def cores_of(self, pid: int | None) -> list[str]:
        names = [self.pattern] + ([f'{self.pattern}.{pid}'] if pid else [])  # core_uses_pid
        return [os.path.join(d, n) for d in self.core_dirs for n in names
                if os.path.lexists(os.path.join(d, n))]

    def call(self, limits: list[str], extra_targets: list[sandbox.Target] = ()
             ) -> tuple[sandbox.Result, list[str]]:
        """pkexec banger-signal on the VMs (and extra targets) under `limits`:
        (its result, the core files it left, removed already)."""
        assert SB.member
        pids = [a for t in [*self.vms, *extra_targets] for a in ('--pid', str(t.pid))]
        r = SB.run_as(SB.member, ['prlimit', *limits, CORE_LIMIT, '--',
                                  sandbox.PKEXEC, SB.installed_binary, *pids])
        helper_pid = next((rec.pid for rec in r.audit('pkexec')
                           if 'Executing command' in rec.message), None)
        cores = []
        for core in self.cores_of(helper_pid):
            st = os.lstat(core)
            cores.append(f'{core} (uid {st.st_uid}, {st.st_size} bytes)')
            os.unlink(core)   # a file of root's in /: never leave it behind
        return r, cores

    def assertContract(self, r: sandbox.Result, cores: list[str], limit: str) -> None:
        what = '\n' + r.describe()
        self.assertEqual(cores, [], f'the call left core files {cores}{what}')
        self.assertGreaterEqual(r.returncode, 0, f'killed by signal {-r.returncode}{what}')
        self.assertIn(r.returncode, CONTRACT_CODES, what)
        if root_may_raise_hard_limits():
            # The helper could lift the caller's limit: then the call must simply work.
            self.assertNotEqual(r.returncode, SYSTEM_ERROR, what)
            for vm in self.vms:
                self.assertTrue(vm.gone_within(5), what)
            return
        self.assertEqual(r.returncode, SYSTEM_ERROR, what)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f'want one line on stderr{what}')
        self.assertIn(limit, lines[0], what)
        self.assertTrue(lines[0].startswith('banger-signal: '), what)
        for vm in self.vms:
            self.assertTrue(vm.still_alive_after(), f'VM {vm.pid} was signalled{what}')

    def test_nofile_10(self):
        r, cores = self.call(['--nofile=10'])
        self.assertTrue(r.audit('pkexec'), 'pkexec did not run\n' + r.describe())
        self.assertContract(r, cores, 'RLIMIT_NOFILE')

    def test_tight_address_space(self):
        if sanitizer_build():
            self.skipTest('AddressSanitizer reserves terabytes of address space: the binary '
                          'cannot start under any RLIMIT_AS this test could set')
        # Targets of a hostile member's choosing (its own "firecracker"s can claim any
        # api socket): each claims a 100 KB path in the runtime dir, which the code
        # before the fix kept in memory for its answer, so that the thread GLib
        # starts for the bus no longer fit under a limit pkexec itself still lives
        # with (without them, pkexec needs more address space than the helper).
        claim = os.path.join(SB.runtime_dir, *(['a' * 200] * 500), 'api.sock')
        claimants = [SB.spawn_vm(cgroup=SB.foreign_cgroup, api_sock=claim,
                                 env={'STANDIN_NO_BIND': '1'}) for _ in range(64)]
        # pkexec (GLib too) must get as far as running banger-signal: the lowest
        # of these limits at which it does (about 36 MB on Debian 12) is the one judged.
        for limit in (38_000_000, 48_000_000, 64_000_000, 128_000_000, 256_000_000):
            r, cores = self.call([f'--as={limit}'], claimants)
            if any('Executing command' in rec.message for rec in r.audit('pkexec')):
                break
        else:
            self.fail('pkexec never ran banger-signal under an RLIMIT_AS of 256 MB\n'
                      + r.describe())
        with self.subTest(rlimit_as=limit):
            self.assertContract(r, cores, 'RLIMIT_AS')


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
