#!/usr/bin/env python3
"""End-to-end: `banger-signal --doctor` on a good and on broken installs, and the audit
trail of --kill-after, in the private world of banger_test.sandbox (tests/lib).

--doctor is meant for an administrator who runs it unprivileged when something does not
work, so it runs here as the test users: bsmember (in the privileged group) and bsother (not).
The broken installs are made inside the sandbox only: every file touched is a private copy on
the sandbox's tmpfs (checked before touching it) and is put back, byte for byte, after each
test, waiting for polkitd to have reloaded when the policy or rules changed.

Run by `meson test` (suite e2e) as root; exits 77 (skipped) when not root or when mount
namespaces are unavailable. Environment: as for test_polkit.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import signal
import stat
import sys
import unittest

from banger_test import sandbox
from banger_test.codes import CONFIG_ERROR, NOT_AUTHORIZED, USAGE
from install_edits import (ACTION_RUN, Saved, policy_path, private_copy, rules_path,
                           wait_polkit_restored)

SB: sandbox.Sandbox  # set in main() before the tests run


# What --doctor checks, by the name it prints before the colon.
CHECKS = ('binary', 'pkexec', 'socket door', 'door', 'polkit policy', 'polkit rules', 'group',
          'authorization', 'config', 'cgroup layout', 'service cgroup', 'service unit', 'helper user',
          'pidfd', 'cgroup namespace')
_LINE = re.compile(r'^(?P<level>OK  |WARN|FAIL)  (?P<check>[^:]+): (?P<detail>.*)$')
_FIX = re.compile(r'^      fix: (?P<fix>.+)$')


class Line:
    def __init__(self, level: str, detail: str):
        self.level, self.detail, self.fix = level.strip(), detail, None

    def __repr__(self) -> str:
        return f'{self.level} {self.detail!r} fix={self.fix!r}'


class DoctorTestCase(unittest.TestCase):
    maxDiff = None

    def doctor(self, user: sandbox.User, quiet: bool = True) -> tuple[sandbox.Result, dict[str, Line]]:
        r = SB.run_as(user, [SB.installed_binary, '--doctor'])
        lines: dict[str, Line] = {}
        last = None
        for text in r.stdout.splitlines():
            m = _LINE.match(text)
            if m:
                self.assertNotIn(m['check'], lines, f'check printed twice\n{r.describe()}')
                last = lines[m['check']] = Line(m['level'], m['detail'])
                continue
            m = _FIX.match(text)
            self.assertTrue(m and last is not None and last.fix is None,
                            f'unexpected line {text!r}\n{r.describe()}')
            last.fix = m['fix']
        self.assertEqual(sorted(lines), sorted(CHECKS), r.describe())
        for check, line in lines.items():
            # Every line that is not OK says how to fix it; OK lines do not.
            self.assertEqual(line.fix is None, line.level == 'OK', f'{check}: {line}')
        # "It signals nothing and logs nothing." (Unless `quiet` is off: a socket door's
        # instance that cannot work logs why when --doctor's question wakes it.)
        if quiet:
            self.assertEqual(r.audit(), [], r.describe())
        return r, lines

    def assertLevels(self, r: sandbox.Result, lines: dict[str, Line], level: str,
                     checks) -> None:
        got = {c: lines[c].level for c in checks}
        self.assertEqual(got, {c: level for c in checks}, '\n' + r.describe())

    def assertBroken(self, r: sandbox.Result, lines: dict[str, Line], failing: str,
                     still_ok) -> None:
        """`failing` is FAIL, the run exits 8, and the named unrelated checks stay OK."""
        self.assertLevels(r, lines, 'FAIL', [failing])
        self.assertEqual(r.returncode, CONFIG_ERROR, '\n' + r.describe())
        self.assertLevels(r, lines, 'OK', still_ok)


class GoodInstall(DoctorTestCase):

    def test_member_everything_ok(self):
        # Preconditions: the sandbox is the good install it claims to be.
        for path in (SB.installed_binary, policy_path(SB), rules_path(SB), SB.config_path):
            self.assertTrue(os.path.isfile(path), f'{path} not installed in the sandbox')
        self.assertTrue(SB.authorized(SB.member, ACTION_RUN))
        r, lines = self.doctor(SB.member)
        self.assertLevels(r, lines, 'OK', ['binary', 'polkit policy', 'polkit rules', 'group',
                                           'authorization', 'config'])
        self.assertEqual([c for c, ln in lines.items() if ln.level == 'FAIL'], [], r.describe())
        self.assertEqual(r.returncode, 0, '\n' + r.describe())
        self.assertIn(SB.installed_binary, lines['binary'].detail)
        self.assertIn(SB.runtime_dir, lines['config'].detail)
        self.assertIn(SB.service_cgroup, lines['config'].detail)
        self.assertLevels(r, lines, 'OK', ['service cgroup', 'helper user'])
        self.assertIn(SB.helper_user, lines['helper user'].detail)
        # No systemd as init in the sandbox: the service's own processes cannot be
        # told from its VMs, and --doctor says so.
        self.assertLevels(r, lines, 'WARN', ['service unit'])
        self.assertIn('systemd is not the init system', lines['service unit'].detail)
        # The socket door is not listening in this class's sandbox: pkexec serves, and
        # --doctor says what a hardened daemon would lack (test_socket_door.py has the rest).
        self.assertLevels(r, lines, 'WARN', ['socket door', 'door'])
        self.assertIn('calls take pkexec', lines['door'].detail)

    def test_nonmember_not_authorized(self):
        r, lines = self.doctor(SB.other)
        # The group exists and bsother is not in it: a warning (being outside the group is
        # legitimate for an admin), with the fix.
        self.assertLevels(r, lines, 'WARN', ['group'])
        # The policy gives org.banger.signal.run: any=no, inactive=no, active=auth_admin_keep,
        # and only the group rule says yes. bsother runs without a login session (no
        # logind seat, as here and as for a service), so polkit's answer is a plain "no",
        # not an authentication challenge: FAIL, not WARN. (pkcheck agrees, below.)
        self.assertFalse(SB.authorized(SB.other, ACTION_RUN))
        self.assertLevels(r, lines, 'FAIL', ['authorization'])
        self.assertIn(SB.privileged_group, lines['authorization'].fix)
        self.assertLevels(r, lines, 'OK', ['binary', 'polkit policy', 'config'])
        self.assertEqual(r.returncode, CONFIG_ERROR, '\n' + r.describe())

    def test_refused_through_pkexec(self):
        # Issue 17, 7: the man page says 7; it was 2 ("--pid is required"), judged as if
        # it were a call to signal something.
        r = SB.pkexec(SB.member, ['--doctor'])
        self.assertEqual(r.returncode, NOT_AUTHORIZED, '\n' + r.describe())
        self.assertIn('--doctor runs as the user it checks, not through pkexec', r.stderr)
        self.assertEqual(r.stdout, '', r.describe())
        lines = [rec.message for rec in r.audit()]
        self.assertEqual(len(lines), 1, r.describe())
        self.assertIn(' outcome=not-authorized code=7 ', lines[0])
        self.assertIn(' door=pkexec ', lines[0])

    def test_takes_no_other_option(self):
        for extra in (['--json'], ['--verbose'], ['--pid', '1'], ['--list']):
            with self.subTest(extra=extra):
                r = SB.run_as(SB.member, [SB.installed_binary, '--doctor', *extra])
                self.assertEqual(r.returncode, USAGE, '\n' + r.describe())
                self.assertEqual(r.stdout, '', r.describe())


class BrokenInstall(DoctorTestCase):
    """One thing wrong at a time; each test puts the install back as it found it."""

    def save(self, path: str, polkit: bool = False) -> Saved:
        saved = Saved(SB, path)

        def put_back():
            saved.restore()
            if polkit:
                wait_polkit_restored(SB)
            self.assertTrue(saved.unchanged(), f'{path} not restored')
        self.addCleanup(put_back)
        return saved

    # -- the install record --------------------------------------------------------------

    def test_config_group_writable(self):
        self.save(SB.config_path)
        os.chmod(private_copy(SB, SB.config_path), 0o664)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'config', ['binary', 'polkit policy', 'group', 'authorization'])
        self.assertIn('chmod', lines['config'].fix)

    def test_config_world_writable(self):
        self.save(SB.config_path)
        os.chmod(private_copy(SB, SB.config_path), 0o646)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'config', ['binary', 'polkit policy', 'group', 'authorization'])

    def test_config_owned_by_non_root(self):
        self.save(SB.config_path)
        os.chown(private_copy(SB, SB.config_path), SB.other.uid, 0)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'config', ['binary', 'polkit policy', 'group', 'authorization'])
        self.assertIn('chown root', lines['config'].fix)

    def test_config_group_owned_by_other_but_not_writable_is_fine(self):
        # The control for the two above: the owner and the write bits matter, not the group.
        self.save(SB.config_path)
        os.chown(private_copy(SB, SB.config_path), 0, SB.other.gid)
        r, lines = self.doctor(SB.member)
        self.assertLevels(r, lines, 'OK', ['config'])

    def test_config_invalid_value(self):
        saved = self.save(SB.config_path)
        text = saved.data.decode().replace(f'runtime_dir = "{SB.runtime_dir}"',
                                           'runtime_dir = "run/banger"')
        self.assertNotEqual(text, saved.data.decode())
        SB.write_file(private_copy(SB, SB.config_path), text)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'config', ['binary', 'polkit policy', 'group', 'authorization'])
        self.assertIn('runtime_dir', lines['config'].detail)

    # -- polkit --------------------------------------------------------------------------

    def test_policy_missing(self):
        path = policy_path(SB)
        self.save(path, polkit=True)
        os.unlink(private_copy(SB, path))
        r, lines = self.doctor(SB.member)
        # authorization may fail too once polkitd has noticed (the action is gone).
        self.assertBroken(r, lines, 'polkit policy', ['binary', 'group', 'config'])
        self.assertIn(path, lines['polkit policy'].detail)

    def test_policy_exec_path_elsewhere(self):
        path = policy_path(SB)
        saved = self.save(path, polkit=True)
        xml = saved.data.decode()
        moved = xml.replace(f'>{SB.installed_binary}<', '>/opt/elsewhere/banger-signal<')
        self.assertNotEqual(moved, xml, 'exec.path annotation not found in the policy')
        SB.write_file(private_copy(SB, path), moved)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'polkit policy', ['binary', 'group', 'config'])
        self.assertIn('/opt/elsewhere/banger-signal', lines['polkit policy'].detail)

    def test_rules_missing(self):
        path = rules_path(SB)
        self.save(path, polkit=True)
        os.unlink(private_copy(SB, path))
        r, lines = self.doctor(SB.member)
        # Without the group rule bsmember is not authorized either, once polkitd noticed.
        self.assertBroken(r, lines, 'polkit rules', ['binary', 'polkit policy', 'group', 'config'])

    # -- binary and group ----------------------------------------------------------------

    def test_binary_group_writable(self):
        saved = self.save(SB.installed_binary)
        os.chmod(private_copy(SB, SB.installed_binary), saved.mode | 0o020)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'binary', ['polkit policy', 'group', 'config'])

    def test_binary_setuid(self):
        saved = self.save(SB.installed_binary)
        os.chmod(private_copy(SB, SB.installed_binary), saved.mode | stat.S_ISUID)
        r, lines = self.doctor(SB.member)
        self.assertBroken(r, lines, 'binary', ['polkit policy', 'group', 'config'])
        self.assertIn('setuid', lines['binary'].detail)

    def test_group_missing(self):
        saved = self.save('/etc/group')
        kept = [ln for ln in saved.data.decode().splitlines()
                if ln.split(':')[0] != SB.privileged_group]
        self.assertEqual(len(kept), len(saved.data.decode().splitlines()) - 1)
        SB.write_file(private_copy(SB, '/etc/group'), '\n'.join(kept) + '\n')
        r, lines = self.doctor(SB.member)
        # The group rule cannot match either: authorization may fail as well.
        self.assertBroken(r, lines, 'group', ['binary', 'polkit policy', 'config'])
        self.assertIn(SB.privileged_group, lines['group'].fix)


class HelperAccount(BrokenInstall):
    """The helper user is the helper's alone (issue 17, 6): polkit takes questions about
    anyone's process from its uid, so nobody may log in as it. --doctor fails, and the
    helper refuses (8) to work as such an account, through either door."""

    def account(self, shell: str | None = None, password: str | None = None) -> None:
        passwd = self.save('/etc/passwd')
        lines = passwd.data.decode().splitlines()
        for i, ln in enumerate(lines):
            f = ln.split(':')
            if f[0] == SB.helper_user and shell:
                lines[i] = ':'.join(f[:6] + [shell])
        SB.write_file(private_copy(SB, '/etc/passwd'), '\n'.join(lines) + '\n')
        if password is not None:
            shadow = self.save('/etc/shadow')
            st = os.stat('/etc/shadow')
            SB.write_file(private_copy(SB, '/etc/shadow'), shadow.data.decode() +
                          f'{SB.helper_user}:{password}:19000:0:99999:7:::\n',
                          mode=st.st_mode & 0o7777, uid=st.st_uid, gid=st.st_gid)

    def assertRefusedEverywhere(self, why: str) -> None:
        r, lines = self.doctor(SB.member, quiet=False)
        self.assertBroken(r, lines, 'helper user', ['binary', 'polkit policy', 'config'])
        self.assertIn(why, lines['helper user'].detail)
        vm = SB.spawn_vm()
        for door in ('pkexec', 'socket'):
            with self.subTest(door=door):
                r = SB.run_as(SB.member, [SB.installed_binary, '--door', door, '--pid', str(vm.pid)])
                self.assertEqual(r.returncode, CONFIG_ERROR, '\n' + r.describe())
                self.assertIn('must be no one\'s account', r.stderr)
        self.assertTrue(vm.still_alive_after())

    def setUp(self):
        super().setUp()
        SB.start_door()
        self.addCleanup(SB.stop_door)

    def test_a_login_shell(self):
        self.account(shell='/bin/bash')
        self.assertRefusedEverywhere('its shell /bin/bash lets it log in')

    def test_a_password(self):
        # Only root reads /etc/shadow: --doctor as root sees it, and so do both doors.
        self.account(password='$6$banger$not.a.real.hash')
        r = SB.run_as(SB.member, [SB.installed_binary, '--door', 'socket', '--pid', str(SB.spawn_vm().pid)])
        self.assertEqual(r.returncode, CONFIG_ERROR, '\n' + r.describe())
        self.assertIn('it has a password in /etc/shadow', r.stderr)
        p = subprocess.run([SB.installed_binary, '--doctor'], capture_output=True, text=True, timeout=60,
                           env={'PATH': sandbox.USER_PATH}, check=False)
        self.assertEqual(p.returncode, CONFIG_ERROR, p.stdout)
        self.assertIn('it has a password in /etc/shadow', p.stdout)


class KillAfterAudit(unittest.TestCase):
    """--kill-after's escalation in the audit trail (syslog is captured only here)."""

    def escalation_lines(self, r: sandbox.Result, pid: int) -> list[str]:
        return [rec.message for rec in r.audit()
                if re.search(rf'\bpid={pid}(?!\d)', rec.message)]

    def test_escalation_is_logged(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--kill-after', '0.5', '--json'])
        self.assertEqual(r.returncode, 0, '\n' + r.describe())
        self.assertTrue(vm.gone_within(5), r.describe())
        self.assertEqual(vm.popen.returncode, -signal.SIGKILL, r.describe())
        self.assertIs(json.loads(r.stdout)['escalated'], True, r.describe())
        logged = self.escalation_lines(r, vm.pid)
        # Each signal when it is sent, then the outcome.
        self.assertEqual(len(logged), 3, r.describe())
        self.assertIn(' signal=TERM event=sending ', logged[0])
        self.assertIn(' signal=KILL event=sending ', logged[1])
        self.assertIn('escalated=1', logged[2])
        self.assertIn('outcome=delivered', logged[2])

    def test_no_escalation_when_term_suffices(self):
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--kill-after', '5', '--json'])
        self.assertEqual(r.returncode, 0, '\n' + r.describe())
        self.assertTrue(vm.gone_within(5), r.describe())
        self.assertEqual(vm.popen.returncode, -signal.SIGTERM, r.describe())
        self.assertIs(json.loads(r.stdout)['escalated'], False, r.describe())
        logged = self.escalation_lines(r, vm.pid)
        self.assertEqual(len(logged), 2, r.describe())
        self.assertIn(' signal=TERM event=sending ', logged[0])
        self.assertIn('escalated=0', logged[1])


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
