#!/usr/bin/env python3
"""End-to-end: `pkexec --user OTHER banger-signal` is refused, three times over (issue 12, 4).

Run as OTHER, the helper would elevate again as OTHER, and its audit would blame OTHER.
Polkit's gate rule says no when pkexec asks for the run action with a user other than
root (the "user" detail pkexec passes); pkexec then refuses (127) before banger-signal
runs. And the binary itself refuses (7) to run with PKEXEC_UID set but not as root, which
is what a caller gets that sets PKEXEC_UID in its own environment.

The sandbox gives bsmember and bsother real homes: `pkexec --user U` changes to U's home
directory and fails without one, which would hide what polkit answered.

Run by `meson test` (suite e2e) as root, like test_polkit.py.
"""

from __future__ import annotations

import json
import os
import re
import sys

from banger_test import sandbox
from banger_test.codes import NOT_AUTHORIZED, PKEXEC_NOT_AUTHORIZED
from test_polkit import E2ETestCase

SB: sandbox.Sandbox  # set in main() before the tests run

ACTION_RUN = 'org.banger.signal.run'


class GateRule(E2ETestCase):
    """polkitd's answers for the gate, asked with pkcheck as root (only root may pass
    details) for a process of bsmember's."""

    def test_run_as_another_user_is_no(self):
        for user in (SB.other.name, 'nobody', SB.helper_user):
            with self.subTest(user=user):
                self.assertFalse(SB.authorized(SB.member, ACTION_RUN, {'user': user}))

    def test_run_as_root_is_yes(self):
        self.assertTrue(SB.authorized(SB.member, ACTION_RUN, {'user': 'root'}))

    def test_no_details_is_yes(self):
        # --doctor's check, which has no details to give.
        self.assertTrue(SB.authorized(SB.member, ACTION_RUN))

    def test_nonmember_gets_no_either_way(self):
        for details in ({'user': 'root'}, {'user': SB.other.name}, None):
            with self.subTest(details=details):
                self.assertFalse(SB.authorized(SB.other, ACTION_RUN, details))


class PkexecAsAnotherUser(E2ETestCase):

    def test_member_runs_it_as_other_refused_by_pkexec(self):
        # The premise: pkexec could change to bsother's home, so a refusal is polkit's.
        home = os.path.join('/home', SB.other.name)
        self.assertTrue(os.path.isdir(home), f'{home}: the sandbox gives its users homes')
        self.assertEqual(os.stat(home).st_uid, SB.other.uid)
        vm = SB.spawn_vm()
        r = SB.run_as(SB.member, [sandbox.PKEXEC, '--user', SB.other.name, SB.installed_binary,
                                  '--pid', str(vm.pid)])
        self.assertExit(r, PKEXEC_NOT_AUTHORIZED)
        self.assertUntouched(r, vm)
        self.assertIn('Not authorized', r.stderr)
        # banger-signal never ran: nothing of its own, least of all a line blaming bsother.
        blaming = [rec.message for rec in r.log
                   if re.search(rf'\bcaller_uid={SB.other.uid}(?!\d)', rec.message)]
        self.assertEqual(blaming, [], r.describe())
        self.assertNoAudit(r)
        # pkexec logs its refusal: bsmember asked to run it as bsother.
        refusals = [rec.message for rec in r.audit('pkexec')
                    if SB.member.name in rec.message and f'[USER={SB.other.name}]' in rec.message]
        self.assertTrue(refusals, r.describe())
        self.assertIn('Not authorized', refusals[0])

    def test_member_runs_it_as_root_explicitly_delivers(self):
        # The control: --user root is what pkexec does anyway, and stays allowed.
        vm = SB.spawn_vm()
        r = SB.run_as(SB.member, [sandbox.PKEXEC, '--user', 'root', SB.installed_binary,
                                  '--pid', str(vm.pid)])
        self.assertDelivered(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid)


class PkexecUidWithoutRoot(E2ETestCase):
    """What the helper would see run as OTHER: PKEXEC_UID set, and not root."""

    def run_with_pkexec_uid(self, user: sandbox.User, uid: int, *args: str) -> sandbox.Result:
        # env(1) execs: the binary's parent is still the harness, as under setpriv alone.
        return SB.run_as(user, ['env', f'PKEXEC_UID={uid}', SB.installed_binary, *args])

    def test_refused_without_elevating(self):
        vm = SB.spawn_vm()
        r = self.run_with_pkexec_uid(SB.member, SB.member.uid, '--pid', str(vm.pid), '--json')
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertUntouched(r, vm)
        self.assertIn('only runs as root', r.stderr)
        obj = json.loads(r.stdout)
        self.assertEqual((obj['pid'], obj['code'], obj['outcome']),
                         (vm.pid, NOT_AUTHORIZED, 'not-authorized'), r.describe())
        self.assertNotIn('elevation', obj, 'no elevation was tried')
        # No pkexec was started: pkexec logs every run and every refusal.
        self.assertEqual(r.audit('pkexec'), [], r.describe())

    def test_refused_whatever_uid_it_claims(self):
        for uid in (SB.other.uid, 0):
            with self.subTest(PKEXEC_UID=uid):
                vm = SB.spawn_vm()
                r = self.run_with_pkexec_uid(SB.member, uid, '--pid', str(vm.pid))
                self.assertExit(r, NOT_AUTHORIZED)
                self.assertUntouched(r, vm)
                self.assertEqual(r.audit('pkexec'), [], r.describe())


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
