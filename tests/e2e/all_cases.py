"""--all, the same cases through either door: test_polkit.py runs them through pkexec,
test_socket_door.py through the socket. Each case starts from no targets at all, then
builds one world: two VMs (one by cgroup, one by its api socket outside the cgroup), a
stand-in outside the cgroup holding no socket, and an impostor (every claim true but its
executable). --all must act on exactly the two VMs, as --list shows them."""

from __future__ import annotations

import json
import os
import re

from banger_test import sandbox
from banger_test.codes import NOT_AUTHORIZED, OK, USAGE


class AllCases:
    """Mixed into a unittest.TestCase that sets DOOR and defines sb() and call()."""

    DOOR = ''

    def sb(self) -> sandbox.Sandbox:
        raise NotImplementedError

    def call(self, user, args: list[str]) -> sandbox.Result:
        raise NotImplementedError

    def world(self) -> tuple[list[sandbox.Target], list[sandbox.Target]]:
        """(the VMs, the others), from nothing."""
        sb = self.sb()
        sb.stop_targets()
        vms = [sb.spawn_vm(), sb.spawn_vm(cgroup=sb.foreign_cgroup, api_sock='all-vm.sock')]
        others = [sb.spawn_vm(cgroup=sb.foreign_cgroup)]
        if sb.impostor:
            others.append(sb.spawn_impostor(api_sock='all-impostor.sock'))
        return vms, others

    def lines(self, r: sandbox.Result) -> list[dict]:
        return [json.loads(line) for line in r.stdout.splitlines()]

    def assertAllAlive(self, r: sandbox.Result, procs: list[sandbox.Target]) -> None:
        dead = [p.pid for p in procs if not p.still_alive_after()]
        self.assertEqual(dead, [], r.describe())

    def test_all_dry_run_previews_what_list_shows(self):
        vms, others = self.world()
        listed = self.call(self.sb().member, ['--list', '--json'])
        self.assertEqual(listed.returncode, OK, listed.describe())
        r = self.call(self.sb().member, ['--all', '--dry-run', '--json'])
        self.assertEqual(r.returncode, OK, r.describe())
        objs = self.lines(r)
        self.assertEqual(sorted(o['pid'] for o in objs), sorted(v.pid for v in vms), r.describe())
        self.assertEqual(sorted(o['pid'] for o in objs), sorted(o['pid'] for o in self.lines(listed)))
        for o in objs:
            self.assertEqual((o['outcome'], o['dry_run'], o['door']), ('would-deliver', True, self.DOOR), o)
        self.assertAllAlive(r, vms + others)
        # Asked polkit about each, as --pid would (the audit line says polkit=yes).
        audited = [rec.message for rec in r.audit()]
        for v in vms:
            hits = [ln for ln in audited if re.search(rf' pid={v.pid} .* polkit=yes ', ln)]
            self.assertTrue(hits, r.describe())

    def test_all_term_stops_the_vms_and_nothing_else(self):
        vms, others = self.world()
        r = self.call(self.sb().member, ['--all', '--signal', 'TERM', '--json'])
        self.assertEqual(r.returncode, OK, r.describe())
        self.assertEqual(sorted(o['pid'] for o in self.lines(r)), sorted(v.pid for v in vms))
        for v in vms:
            self.assertTrue(v.gone_within(5), f'VM {v.pid} still alive\n' + r.describe())
        self.assertAllAlive(r, others)
        sending = [rec.message for rec in r.audit() if ' event=sending ' in rec.message]
        self.assertEqual(sorted(int(re.search(r' pid=(\d+) ', ln).group(1)) for ln in sending),
                         sorted(v.pid for v in vms), r.describe())

    def test_all_with_kill_after_waits_for_all(self):
        vms, others = self.world()
        r = self.call(self.sb().member, ['--all', '--kill-after', '5', '--json'])
        self.assertEqual(r.returncode, OK, r.describe())
        for o in self.lines(r):
            self.assertEqual((o['outcome'], o['escalated']), ('delivered', False), o)
        self.assertTrue(all(not v.alive() for v in vms), r.describe())
        self.assertAllAlive(r, others)

    def test_all_with_pid_is_a_usage_error(self):
        vms, others = self.world()
        r = self.call(self.sb().member, ['--all', '--pid', str(vms[0].pid)])
        self.assertEqual(r.returncode, USAGE, r.describe())
        self.assertIn('--all takes no --pid', r.stderr)
        self.assertAllAlive(r, vms + others)

    def test_all_finding_nothing_succeeds_on_record(self):
        self.sb().stop_targets()
        r = self.call(self.sb().member, ['--all', '--json'])
        self.assertEqual((r.returncode, r.stdout), (OK, ''), r.describe())
        hits = [rec.message for rec in r.audit()
                if ' all=1 signal=TERM dry_run=0 accepted=0' in rec.message
                and f'caller_uid={self.sb().member.uid} ' in rec.message]
        self.assertEqual(len(hits), 1, r.describe())

    def test_all_asks_polkit_per_target(self):
        # An admin rule that refuses KILL: --all --signal KILL signals nothing (7).
        rule = '/etc/polkit-1/rules.d/10-e2e-all-deny-kill.rules'
        self.sb().write_file(rule, DENY_KILL_RULE % self.sb().privileged_group)
        self.addCleanup(self._remove_rule, rule)
        self.sb().wait_authorization(self.sb().member, 'org.banger.signal.kill', expected=False)
        vms, others = self.world()
        r = self.call(self.sb().member, ['--all', '--signal', 'KILL', '--json'])
        self.assertEqual(r.returncode, NOT_AUTHORIZED, r.describe())
        self.assertEqual(sorted((o['pid'], o['outcome']) for o in self.lines(r)),
                         sorted((v.pid, 'not-authorized') for v in vms), r.describe())
        self.assertAllAlive(r, vms + others)

    def _remove_rule(self, rule: str) -> None:
        os.unlink(rule)
        self.sb().wait_authorization(self.sb().member, 'org.banger.signal.kill', expected=True)


DENY_KILL_RULE = '''\
// e2e: an admin narrows the group: no SIGKILL for anyone in it.
polkit.addRule(function(action, subject) {
    if (action.id == "org.banger.signal.kill" && subject.isInGroup("%s")) {
        return polkit.Result.NO;
    }
});
'''
