#!/usr/bin/env python3
"""End-to-end: the polkit subject is the caller, not whoever inherits its pid (issue 12, item 2).

A member's caller process starts `pkexec banger-signal --json` with 40 targets that are
slow to judge (firecrackers holding 19 000 fds each and claiming a socket that really
listens in the runtime dir, so that the api-sock proof walks every fd) and one real VM
last, and exits while the helper judges them (seen from outside: it holds a slow
target's /proc directory before and after the caller is gone). The VM must not be
delivered: 7, with a reason naming the caller that exited, in the JSON line (the
caller's stdout, a file) and in the audit line; polkitd is never asked about it. The
caller's pid is then handed to another user's process where the kernel allows it
(ns_last_pid): on the code before the fix, polkit's subject was whatever held the pid.

Run by `meson test` (suite e2e) as root in the sandbox of banger_test.sandbox; exits
77 (skipped) when the sandbox cannot run. Environment as for test_polkit.py.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from banger_test import sandbox
from banger_test.codes import NOT_AUTHORIZED

SB: sandbox.Sandbox  # set in main() before the tests run

SLOW_TARGETS, FDS_EACH = 40, 19000   # about 3 s of judging on 2 busy cores
PROBE = '/etc/polkit-1/rules.d/00-e2e-subject-probe.rules'
PROBE_RULE = '''\
// e2e: record the subject of every fine-grained check, decide nothing. (polkit.log()
// is lost: polkitd --no-debug sends its stderr to /dev/null.)
polkit.addRule(function(action, subject) {
    if (action.id == "org.banger.signal.send" || action.id == "org.banger.signal.kill")
        polkit.spawn(["%s", "-t", "e2e-probe",
                      "pid=" + action.lookup("pid") + " subject.pid=" + subject.pid]);
    return polkit.Result.NOT_HANDLED;
});
'''
# A firecracker holding many fds: the launcher opens them, then execs the stand-in.
LAUNCH = '''\
import os, sys
procs, count, exe = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(procs, "w") as f:
    f.write(str(os.getpid()))
fd = os.open("/dev/null", os.O_RDONLY)
for n in range(20, 20 + count):
    os.dup2(fd, n, inheritable=True)
os.execv(exe, ["firecracker", *sys.argv[4:]])
'''
# The caller: starts pkexec on its stdout/stderr, says its pid, exits when told.
CALLER = '''\
import os, subprocess, sys
ctl, go = int(sys.argv[1]), int(sys.argv[2])
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL)
os.write(ctl, b"%d\\n" % p.pid)
os.read(go, 1)
os._exit(0)
'''


def probes(pid: int | str, mark: int) -> list[str]:
    """What the probe rule logged (through syslog) about target `pid` since `mark`."""
    assert SB.syslog
    SB.syslog.sync()
    return [r.message for r in SB.syslog.since(mark, 'e2e-probe')
            if r.message.startswith(f'pid={pid} ')]


def proc_links(pid: int) -> set[str]:
    """What the fds of `pid` (banger-signal, a few dozen) point at."""
    links = set()
    try:
        names = os.listdir(f'/proc/{pid}/fd')
    except OSError:
        return links
    for name in names:
        try:
            links.add(os.readlink(f'/proc/{pid}/fd/{name}'))
        except OSError:
            pass
    return links


class CallerExits(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        SB.spawn_vm(cgroup=SB.foreign_cgroup, api_sock='slow.sock')   # it really listens
        procs = os.path.join(SB.cgroup_dir(SB.foreign_cgroup), 'cgroup.procs')
        claim = os.path.join(SB.runtime_dir, 'slow.sock')
        cls.slow = [subprocess.Popen([sys.executable, '-I', '-S', '-c', LAUNCH, procs,
                                      str(FDS_EACH), SB.standin, '--api-sock', claim],
                                     env={'STANDIN_NO_BIND': '1'}, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL) for _ in range(SLOW_TARGETS)]
        deadline = time.monotonic() + 60
        for p in cls.slow:
            while len(os.listdir(f'/proc/{p.pid}/fd')) < FDS_EACH:
                if p.poll() is not None or time.monotonic() > deadline:
                    raise sandbox.SandboxError(f'slow target {p.pid} did not start')
                time.sleep(0.05)
        SB.write_file(PROBE, PROBE_RULE % (shutil.which('logger') or '/usr/bin/logger'))
        deadline = time.monotonic() + 15   # polkitd reloads rules by itself
        while not probes('warm-up', 0):
            if time.monotonic() > deadline:
                raise sandbox.SandboxError('polkitd did not load the probe rule')
            SB.authorized(SB.member, 'org.banger.signal.send', {'pid': 'warm-up'})
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        os.unlink(PROBE)
        for p in cls.slow:
            p.kill()
            p.wait()

    def run_abandoned_call(self, vm: sandbox.Target) -> dict | None:
        """The caller starts the call and exits while the helper judges. None when the
        helper was no longer judging once the caller was gone (the window was missed)."""
        assert SB.member and SB.other and SB.syslog
        out = tempfile.TemporaryFile(dir='/tmp')
        ctl_r, ctl_w = os.pipe()
        go_r, go_w = os.pipe()
        argv = [sandbox.PKEXEC, SB.installed_binary, '--json', '--signal', 'TERM',
                *[a for p in self.slow for a in ('--pid', str(p.pid))], '--pid', str(vm.pid)]
        self.mark = SB.syslog.mark()
        caller = subprocess.Popen(SB.as_user_argv(SB.member, [
            sys.executable, '-I', '-S', '-c', CALLER, str(ctl_w), str(go_r), *argv]),
            env=SB.user_env(SB.member), cwd='/', stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.DEVNULL, pass_fds=(ctl_w, go_r))
        os.close(ctl_w)
        os.close(go_r)
        with os.fdopen(ctl_r) as ctl:
            helper = int(ctl.readline())
        exited = os.pidfd_open(helper)
        judging = {f'/proc/{p.pid}' for p in self.slow}
        deadline = time.monotonic() + 30
        while not proc_links(helper) & judging:   # pkexec has exec'd it; pinned; judging
            self.assertLess(time.monotonic(), deadline, 'the helper never judged a target')
            time.sleep(0.002)
        os.write(go_w, b'x')
        os.close(go_w)
        caller.wait(10)
        hit = bool(proc_links(helper) & judging)   # still judging: polkit not asked yet
        self.handed = self.hand_pid_to_other(caller.pid)
        select.select([exited], [], [], 60)
        os.close(exited)
        SB.syslog.sync()
        self.caller_pid = caller.pid
        out.seek(0)
        self.lines = out.read().decode(errors='replace').splitlines()
        out.close()
        return json.loads(self.lines[-1]) if hit and self.lines else None

    def hand_pid_to_other(self, pid: int) -> str:
        """Give the dead caller's pid to a process of bsother's, if the kernel lets us."""
        assert SB.other
        try:
            with open('/proc/sys/kernel/ns_last_pid', 'w', encoding='ascii') as f:
                f.write(str(pid - 1))
        except OSError as e:
            return f'pid {pid} left free (ns_last_pid: {e.strerror})'
        p = subprocess.Popen(SB.as_user_argv(SB.other, ['sleep', '30']), env=SB.user_env(SB.other),
                             cwd='/', stdin=subprocess.DEVNULL)
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        return f'pid {pid} now {"is" if p.pid == pid else "is not"} a sleep of {SB.other.name}'

    def test_caller_gone_before_polkit(self):
        for attempt in range(3):
            vm = SB.spawn_vm()
            obj = self.run_abandoned_call(vm)
            if obj is not None:
                break
            vm.stop()
        else:
            self.fail('three times the helper had finished judging before the caller was gone')
        audit = [r.message for r in SB.syslog.since(self.mark, 'banger-signal')
                 if f' pid={vm.pid} ' in r.message]
        asked = probes(vm.pid, self.mark)
        what = (f'\ncaller pid {self.caller_pid} ({self.handed}); JSON of the VM: {obj}'
                f'\npolkit probe: {asked}\naudit: {audit}')
        self.assertEqual(len(self.lines), SLOW_TARGETS + 1, what)
        self.assertEqual(obj['pid'], vm.pid, what)
        self.assertEqual(obj['code'], NOT_AUTHORIZED, f'the VM was not refused{what}')
        self.assertEqual(obj['outcome'], 'not-authorized', what)
        self.assertIn(f'caller (pid {self.caller_pid}) exited', obj['reason'], what)
        self.assertTrue(vm.still_alive_after(), f'the VM was signalled{what}')
        self.assertEqual(asked, [], f'polkitd was asked about the VM{what}')
        self.assertEqual(len(audit), 1, what)
        for field in ('outcome=not-authorized', 'code=7', f'caller_pid={self.caller_pid} ',
                      f'caller (pid {self.caller_pid}) exited'):
            self.assertIn(field, audit[0], what)


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
