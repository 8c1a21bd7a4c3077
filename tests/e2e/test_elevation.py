#!/usr/bin/env python3
"""End-to-end: self-elevation from a daemon's real environment, and its refusals told apart
(issue 12, 6).

Run unprivileged, banger-signal re-runs the installed binary through pkexec. pkexec keeps
SHELL, LANG, LANGUAGE, LINGUAS, LC_*, TERM and COLORTERM of its caller, and aborts (127)
when SHELL is not in /etc/shells or a kept value holds "/", "%" or "..": a daemon's real
environment easily has such values. The helper hands pkexec an environment of its own,
and tells pkexec's refusals apart by pkexec's own first line: polkit said no
(not-authorized), polkit could not be asked (polkit-unavailable), pkexec failed for a
reason of its own; never the old catch-all "polkit refused ... (or pkexec failed)".

Run by `meson test` (suite e2e) as root, like test_polkit.py.
"""

from __future__ import annotations

import json
import sys

from banger_test import sandbox
from banger_test.codes import NOT_AUTHORIZED
from test_polkit import E2ETestCase

SB: sandbox.Sandbox  # set in main() before the tests run

ACTION_RUN = 'org.banger.signal.run'
# What a daemon may well have: a service account's shell, and locale or terminal values
# pkexec refuses to pass on.
HOSTILE = {'SHELL': '/usr/sbin/nologin', 'LANG': '../x', 'LC_ALL': 'a/b', 'TERM': 'x%y'}
OLD_CATCH_ALL = '(or pkexec failed)'


def with_env(env: dict[str, str], *args: str) -> list[str]:
    """The installed binary run directly, its environment extended by `env`. env(1)
    execs, so the binary's parent is the harness, as under setpriv alone."""
    return ['env', *(f'{k}={v}' for k, v in env.items()), SB.installed_binary, *args]


class ElevationTestCase(E2ETestCase):

    def refusal(self, r: sandbox.Result, vm: sandbox.Target, cause: str) -> dict:
        """7, the VM alive, nothing logged by banger-signal (its privileged half never ran,
        and the unprivileged half logs nothing), JSON naming `cause`, returned."""
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertUntouched(r, vm)
        obj = json.loads(r.stdout.splitlines()[0])
        self.assertEqual((obj['code'], obj['outcome']), (NOT_AUTHORIZED, 'not-authorized'),
                         r.describe())
        self.assertEqual(obj.get('elevation'), cause, r.describe())
        self.assertNotIn(OLD_CATCH_ALL, r.stderr)
        self.assertNotIn(OLD_CATCH_ALL, obj['reason'])
        self.assertNoAudit(r)
        return obj


class HostileEnvironment(ElevationTestCase):

    def test_premise_nologin_is_not_a_login_shell(self):
        with open('/etc/shells', encoding='utf-8') as f:
            shells = {ln.strip() for ln in f}
        self.assertNotIn(HOSTILE['SHELL'], shells)

    def test_member_delivers_with_each_value(self):
        for name, value in HOSTILE.items():
            with self.subTest(**{name: value}):
                vm = SB.spawn_vm()
                r = SB.run_as(SB.member, with_env({name: value}, '--pid', str(vm.pid)))
                self.assertDelivered(r, vm)
                self.assertAudited(r, SB.member.uid, vm.pid)

    def test_member_delivers_with_all_of_them(self):
        vm = SB.spawn_vm()
        r = SB.run_as(SB.member, with_env(HOSTILE, '--pid', str(vm.pid), '--json'))
        self.assertDelivered(r, vm)
        obj = json.loads(r.stdout)
        self.assertEqual(obj['outcome'], 'delivered', r.describe())
        self.assertNotIn('elevation', obj)
        self.assertAudited(r, SB.member.uid, vm.pid)

    def test_nonmember_is_told_polkit_said_no(self):
        # The same environment, now for a user polkit refuses: the refusal is polkit's,
        # and said so, not pkexec's abort on the environment.
        vm = SB.spawn_vm()
        r = SB.run_as(SB.other, with_env(HOSTILE, '--pid', str(vm.pid), '--json'))
        obj = self.refusal(r, vm, 'not-authorized')
        self.assertIn('polkit refused', obj['reason'])
        self.assertIn(f'polkit refused {ACTION_RUN}', r.stderr)
        # pkexec logs its own refusal: polkit's, naming the user.
        said = [rec.message for rec in r.audit('pkexec') if SB.other.name in rec.message]
        self.assertTrue(said, r.describe())
        self.assertIn('Not authorized', said[0])
        self.assertNotIn('SHELL', said[0])


class PolkitdStopped(ElevationTestCase):

    def test_member_is_told_polkit_is_unavailable(self):
        vm = SB.spawn_vm()
        with SB.polkit.polkitd_stopped():
            r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--json'])
        # Back as it was (the context restarted polkitd): the group rule answers again.
        SB.wait_authorization(SB.member, ACTION_RUN, expected=True)
        obj = self.refusal(r, vm, 'polkit-unavailable')
        self.assertNotIn('polkit refused', obj['reason'])
        self.assertNotIn('polkit refused', r.stderr)
        # The reason quotes pkexec's own first line, which pkexec wrote to stderr too.
        self.assertIn('pkexec said: ', obj['reason'])
        quoted = obj['reason'].split('pkexec said: ', 1)[1].removesuffix('...')
        own = [ln for ln in r.stderr.splitlines() if not ln.startswith('banger-signal:')]
        self.assertTrue(quoted and any(ln.startswith(quoted) for ln in own), r.describe())
        self.assertIn('org.freedesktop.PolicyKit1', quoted)

    def test_delivers_again_once_polkitd_is_back(self):
        with SB.polkit.polkitd_stopped():
            pass
        SB.wait_authorization(SB.member, ACTION_RUN, expected=True)
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid)])
        self.assertDelivered(r, vm)


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
