#!/usr/bin/env python3
"""End-to-end: the installed banger-signal under the real pkexec, polkitd and system bus.

Run by `meson test` (suite e2e) as root; exits 77 (skipped) when not root or when mount
namespaces are unavailable. Everything happens in the private world of banger_test.sandbox:
bsmember is in the privileged group, bsother is not, stand-in Firecracker VMs run in a real
cgroup that /etc/banger/install.toml (inside the sandbox) names as bangerd's service cgroup.

Environment: BANGER_E2E_BUILDDIR (required), BANGER_E2E_SOURCEDIR, BANGER_E2E_STANDIN,
BANGER_E2E_IMPOSTOR.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import unittest

from all_cases import AllCases
from stall_cases import Stalled, StallCases
from banger_test import sandbox
from banger_test.codes import (NOT_AUTHORIZED, NOT_MANAGED, OK, PKEXEC_NOT_AUTHORIZED,
                               PROTECTED, SIGNAL_REFUSED)

SB: sandbox.Sandbox  # set in main() before the tests run


DENY_KILL_RULE = '''\
// e2e: an admin narrows the group: no SIGKILL for anyone in it.
polkit.addRule(function(action, subject) {
    if (action.id == "org.banger.signal.kill" && subject.isInGroup("%s")) {
        return polkit.Result.NO;
    }
});
'''


class E2ETestCase(unittest.TestCase):
    maxDiff = None

    def assertExit(self, result: sandbox.Result, code: int) -> None:
        self.assertEqual(result.returncode, code, '\n' + result.describe())

    def assertAudited(self, result: sandbox.Result, uid: int, pid: int | None = None) -> None:
        """banger-signal sent a syslog line naming the caller's uid (and the target pid)."""
        lines = [r.message for r in result.audit()]
        wanted = re.compile(rf'\bcaller_uid={uid}(?!\d)')
        hits = [ln for ln in lines if wanted.search(ln)]
        if pid is not None:
            hits = [ln for ln in hits if re.search(rf'(?<!\d){pid}(?!\d)', ln)]
        self.assertTrue(hits, f'no banger-signal syslog line with caller_uid={uid}'
                              f'{f" and pid {pid}" if pid else ""}\n' + result.describe())

    def assertNoAudit(self, result: sandbox.Result) -> None:
        self.assertEqual(result.audit(), [], '\n' + result.describe())

    def assertDelivered(self, result: sandbox.Result, vm: sandbox.Target) -> None:
        self.assertExit(result, OK)
        self.assertTrue(vm.gone_within(5), f'pid {vm.pid} still alive after exit 0\n'
                                           + result.describe())

    def assertUntouched(self, result: sandbox.Result, vm: sandbox.Target) -> None:
        self.assertTrue(vm.still_alive_after(), f'pid {vm.pid} died (exit status '
                                                f'{vm.popen.returncode})\n' + result.describe())

    def assertRefused(self, result: sandbox.Result, code: int, target: sandbox.Target,
                      uid: int) -> None:
        """Exit `code`, the target alive, and the refusal on record with the caller's uid."""
        self.assertExit(result, code)
        self.assertUntouched(result, target)
        self.assertAudited(result, uid, target.pid)


class PolkitSetup(E2ETestCase):
    """The installed policy and rules, asked of polkitd directly (no banger-signal involved)."""

    def test_actions_registered_with_installed_exec_path(self):
        out = subprocess.run(['pkaction', '--verbose', '--action-id', 'org.banger.signal.run'],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn(f'annotation:        org.freedesktop.policykit.exec.path -> '
                      f'{SB.installed_binary}\n', out)
        self.assertRegex(out, r'implicit any:\s+no\n')
        self.assertRegex(out, r'implicit inactive:\s+no\n')
        self.assertRegex(out, r'implicit active:\s+auth_admin_keep\n')
        for action in ('org.banger.signal.send', 'org.banger.signal.kill'):
            out = subprocess.run(['pkaction', '--verbose', '--action-id', action],
                                 capture_output=True, text=True, check=True).stdout
            for kind in ('any', 'inactive', 'active'):
                self.assertRegex(out, rf'implicit {kind}:\s+yes\n', action)

    def test_group_rule_grants_member_only(self):
        details = {'pid': '4242', 'signal': 'KILL', 'match': 'cgroup',
                   'cgroup': SB.service_cgroup, 'exe': '/usr/bin/firecracker'}
        for action in sandbox.POLKIT_ACTIONS:
            self.assertTrue(SB.authorized(SB.member, action, details), action)
        self.assertFalse(SB.authorized(SB.other, 'org.banger.signal.run'))
        # send/kill default to yes for everyone: the gate (run) decides who gets in.
        self.assertTrue(SB.authorized(SB.other, 'org.banger.signal.send', details))


class Pkexec(E2ETestCase):

    def test_member_pkexec_delivers(self):
        vm = SB.spawn_vm()
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', 'TERM'])
        self.assertDelivered(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid)

    def test_sent_signal_is_logged_when_sent(self):
        # A line the moment the signal is sent, then the outcome line: whatever
        # ends the call in between (a limit its caller set), the signal is on record.
        vm = SB.spawn_vm()
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', 'TERM'])
        self.assertDelivered(r, vm)
        lines = [rec.message for rec in r.audit()]
        sent = [i for i, ln in enumerate(lines) if f' pid={vm.pid} ' in ln and ' event=sending ' in ln]
        done = [i for i, ln in enumerate(lines) if f' pid={vm.pid} ' in ln and ' outcome=delivered ' in ln]
        self.assertEqual(len(sent), 1, r.describe())
        self.assertEqual(len(done), 1, r.describe())
        self.assertLess(sent[0], done[0], r.describe())
        self.assertIn(' signal=TERM ', lines[sent[0]])
        self.assertIn(f'caller_uid={SB.member.uid} ', lines[sent[0]])

    def test_member_self_elevation_delivers(self):
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid)])
        self.assertDelivered(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid)

    def test_nonmember_pkexec_refused_by_polkit(self):
        vm = SB.spawn_vm()
        r = SB.pkexec(SB.other, ['--pid', str(vm.pid), '--signal', 'TERM'])
        self.assertExit(r, PKEXEC_NOT_AUTHORIZED)
        self.assertUntouched(r, vm)
        # banger-signal never ran; pkexec itself logs the refusal, naming the user.
        self.assertNoAudit(r)
        self.assertTrue(any(SB.other.name in rec.message for rec in r.audit('pkexec')),
                        r.describe())

    def test_nonmember_self_elevation_not_authorized(self):
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.other, ['--pid', str(vm.pid), '--json'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertUntouched(r, vm)
        # The privileged run never happened: pkexec logs its refusal, naming the user,
        # and banger-signal's unprivileged half logs nothing (a line from the caller's
        # own process would be the caller's word).
        self.assertNoAudit(r)
        self.assertTrue(any(SB.other.name in rec.message for rec in r.audit('pkexec')),
                        r.describe())
        # Told apart from pkexec failing for a reason of its own.
        self.assertEqual(json.loads(r.stdout)['elevation'], 'not-authorized', r.describe())
        self.assertIn('polkit refused', r.stderr)

    def test_member_foreign_process_refused(self):
        stranger = SB.spawn_vm(cgroup=SB.foreign_cgroup)
        r = SB.pkexec(SB.member, ['--pid', str(stranger.pid)])
        self.assertRefused(r, NOT_MANAGED, stranger, SB.member.uid)

    def test_member_impostor_refused(self):
        if not SB.impostor:
            self.skipTest('no impostor binary given (BANGER_E2E_IMPOSTOR)')
        impostor = SB.spawn_impostor()
        r = SB.pkexec(SB.member, ['--pid', str(impostor.pid)])
        self.assertRefused(r, NOT_MANAGED, impostor, SB.member.uid)

    def test_member_protected_pid_refused(self):
        r = SB.pkexec(SB.member, ['--pid', '1'])
        self.assertExit(r, PROTECTED)
        self.assertAudited(r, SB.member.uid, 1)

    def test_member_disallowed_signal_refused(self):
        vm = SB.spawn_vm()
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', 'STOP'])
        self.assertRefused(r, SIGNAL_REFUSED, vm, SB.member.uid)

    def test_refused_signal_name_cannot_forge_audit_fields(self):
        # Straight through pkexec (no unprivileged pre-check): the refused name is the
        # caller's text, with a space-separated fake outcome and a newline.
        vm = SB.spawn_vm()
        hostile = 'TERM outcome=delivered code=0\nbanger-signal[1]: forged'
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', hostile])
        self.assertExit(r, SIGNAL_REFUSED)
        self.assertUntouched(r, vm)
        lines = [rec.message for rec in r.audit()]
        self.assertEqual(len(lines), 1, r.describe())
        line = lines[0]
        self.assertNotIn('\n', line)
        # Outside quoted values there is exactly one outcome field, the real one.
        unquoted = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line)
        self.assertEqual(re.findall(r'\boutcome=(\S+)', unquoted), ['signal-refused'], line)
        self.assertIn(' signal="TERM outcome=delivered code=0?ba..." ', line)
        self.assertNotIn('\n', r.stderr.rstrip('\n'), r.describe())

    def test_member_config_refused_under_pkexec(self):
        # A root-owned, well-formed file that would make the foreign process "managed":
        # honouring --config would deliver, so a 7 here proves it was refused, not judged.
        stranger = SB.spawn_vm(cgroup=SB.foreign_cgroup)
        SB.write_file('/tmp/evil.toml', f'service_cgroup = "{SB.foreign_cgroup}"\n'
                                        f'runtime_dir = "/tmp"\n')
        self.addCleanup(os.unlink, '/tmp/evil.toml')
        for call in (SB.pkexec, SB.signal_direct):
            with self.subTest(call=call.__name__):
                r = call(SB.member, ['--config', '/tmp/evil.toml', '--pid', str(stranger.pid)])
                self.assertExit(r, NOT_AUTHORIZED)
                self.assertUntouched(r, stranger)
                if call == SB.pkexec:
                    self.assertAudited(r, SB.member.uid)
                else:
                    # Refused by the unprivileged half, before pkexec: nothing logged,
                    # since a line from the caller's own process would prove nothing.
                    self.assertNoAudit(r)


class AdminRule(E2ETestCase):
    """An admin's own rule narrows the group through the fine-grained actions."""

    RULE = '/etc/polkit-1/rules.d/10-e2e-deny-banger-kill.rules'

    def setUp(self):
        SB.write_file(self.RULE, DENY_KILL_RULE % SB.privileged_group)
        self.addCleanup(self._remove_rule)
        SB.wait_authorization(SB.member, 'org.banger.signal.kill', expected=False)

    def _remove_rule(self):
        os.unlink(self.RULE)
        SB.wait_authorization(SB.member, 'org.banger.signal.kill', expected=True)

    def test_kill_denied_term_allowed(self):
        vm = SB.spawn_vm()
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', 'KILL'])
        self.assertRefused(r, NOT_AUTHORIZED, vm, SB.member.uid)
        r = SB.pkexec(SB.member, ['--pid', str(vm.pid), '--signal', 'TERM'])
        self.assertDelivered(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid)

    def test_kill_denied_through_self_elevation(self):
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--signal', 'SIGKILL'])
        self.assertRefused(r, NOT_AUTHORIZED, vm, SB.member.uid)
        # ...and the 7 above came from the rule, not from a failed elevation:
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--signal', 'SIGTERM'])
        self.assertDelivered(r, vm)


class All(AllCases, E2ETestCase):
    """--all through pkexec (twin of test_socket_door.py's All)."""

    DOOR = 'pkexec'

    def sb(self) -> sandbox.Sandbox:
        return SB

    def call(self, user, args: list[str]) -> sandbox.Result:
        return SB.pkexec(user, args)

    def test_all_outsider_refused_by_pkexec(self):
        vms, others = self.world()
        r = SB.pkexec(SB.other, ['--all', '--json'])
        self.assertExit(r, PKEXEC_NOT_AUTHORIZED)
        self.assertAllAlive(r, vms + others)


class Stall(StallCases, E2ETestCase):
    """The judging deadline through pkexec (twin of test_socket_door.py's Stall)."""

    def sb(self) -> sandbox.Sandbox:
        return SB

    def call(self, user, args: list[str]) -> sandbox.Result:
        return SB.pkexec(user, args)

    def stalled_call(self, fs, args: list[str]) -> Stalled:
        return stalled_call(fs, SB.as_user_argv(SB.member, [sandbox.PKEXEC, SB.installed_binary, *args]),
                            SB.user_env(SB.member))


class StallRoot(StallCases, E2ETestCase):
    """The judging deadline in root's own call (no pkexec, no polkit; the recipe is
    pkexec's, run())."""

    def sb(self) -> sandbox.Sandbox:
        return SB

    def caller_uid(self) -> int:
        return 0

    def call(self, user, args: list[str]) -> sandbox.Result:
        # Root's call whoever the case names: the target is judged the same.
        argv = [SB.installed_binary, *args]
        mark = SB.syslog.mark()
        p = subprocess.run(argv, env=ROOT_ENV, cwd='/', stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=60, check=False)
        SB.syslog.sync()
        return sandbox.Result(argv, ROOT, p.returncode, p.stdout, p.stderr, SB.syslog.since(mark))

    def stalled_call(self, fs, args: list[str]) -> Stalled:
        return stalled_call(fs, [SB.installed_binary, *args], ROOT_ENV)


ROOT = sandbox.User('root', 0, 0)
ROOT_ENV = {'PATH': sandbox.USER_PATH, 'LANG': 'C.UTF-8'}


def stalled_call(fs, argv: list[str], env: dict[str, str]) -> Stalled:
    """argv, run to its answer while `fs` stalls it; then `fs` is aborted so that it can end."""
    mark = SB.syslog.mark()
    started = time.monotonic()
    p = subprocess.Popen(argv, env=env, cwd='/', stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with p:
        try:
            # To its end: the helper closes its output once it has answered, even
            # while a lookup the kernel will not give up keeps the process.
            out = p.stdout.read()
            answered = time.monotonic() - started
            err = p.stderr.read()
        finally:
            fs.abort()
        returncode = p.wait(10)
    SB.syslog.sync()
    return Stalled(returncode, out, err, answered, SB.syslog.since(mark))


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
