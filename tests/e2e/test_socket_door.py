#!/usr/bin/env python3
"""End-to-end: the socket door, twin of the pkexec door's tests, against the same world.

The sandbox's socket door (banger_test.sandbox.socket_door) is systemd-socket-activate
--accept on the door's socket: one instance of the installed binary per connection, as
banger-signal@.service starts it (the helper user, the working capabilities as ambient
ones, no_new_privs), in a cgroup of its own. The private bus, polkitd, the rules, the test
users and the stand-in VMs are the e2e sandbox's. Every case names its pkexec twin
(test_polkit.py, test_batches.py, test_doctor.py, test_caller.py).

Two ways for what only newer systems have, both run here: the kernel's pidfd for the
peer (SO_PEERPIDFD, Linux 6.5+; this machine has it) or pidfd_open with the proof that
the pid holds the connection (Debian 12's 6.1); polkit subjects by pidfd (polkit 124+) or
by pid and start time (Debian 12's 122, this machine's). The other way of each is taken
by banger-signal-testhooks (BANGER_TEST_PEER_PIDFD=off, BANGER_TEST_PIDFD_SUBJECTS=always).

Run by `meson test` (suite e2e) as root; exits 77 (skipped) without root or namespaces.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import unittest

from banger_test import sandbox
from banger_test.codes import (NOT_AUTHORIZED, NOT_MANAGED, OK, PROTECTED, SIGNAL_REFUSED,
                               STILL_RUNNING, USAGE)
from banger_test.pause import Pause
from all_cases import AllCases
from stall_cases import Stalled, StallCases

SB: sandbox.Sandbox  # set in main() before the tests run

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, 'varlink_call.py')
CORPUS = os.path.join(os.path.dirname(HERE), 'fuzz', 'corpus', 'varlink')
TESTHOOKS = os.path.join(os.environ.get('BANGER_E2E_BUILDDIR', ''), 'src', 'banger-signal-testhooks')

DENY_KILL_RULE = '''\
// e2e: an admin narrows the group: no SIGKILL for anyone in it.
polkit.addRule(function(action, subject) {
    if (action.id == "org.banger.signal.kill" && subject.isInGroup("%s")) {
        return polkit.Result.NO;
    }
});
'''


def json_lines(r: sandbox.Result) -> list[dict]:
    return [json.loads(line) for line in r.stdout.splitlines()]


def but_door(objs: list[dict]) -> list[dict]:
    """The objects as they are, but for the door that served them (and pkexec's own
    `elevation`, which only a refused self-elevation has)."""
    return [{k: v for k, v in o.items() if k not in ('door', 'elevation')} for o in objs]


class DoorTestCase(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        # Every class here starts from a running door of the installed binary.
        if not SB.door.running:
            SB.start_door()

    def assertExit(self, r: sandbox.Result, code: int) -> None:
        self.assertEqual(r.returncode, code, '\n' + r.describe())

    def assertAudited(self, r: sandbox.Result, uid: int, pid: int | None = None,
                      outcome: str | None = None) -> list[str]:
        """The instance logged a line with door=socket and the caller's uid (and the pid)."""
        lines = [rec.message for rec in r.audit()]
        hits = [ln for ln in lines if re.search(rf'\bcaller_uid={uid}(?!\d)', ln)
                and ' door=socket ' in ln]
        if pid is not None:
            hits = [ln for ln in hits if re.search(rf'\bpid={pid}(?!\d)', ln)]
        if outcome is not None:
            hits = [ln for ln in hits if f' outcome={outcome} ' in ln]
        self.assertTrue(hits, f'no door=socket line with caller_uid={uid}\n' + r.describe())
        return hits

    def assertAlive(self, r: sandbox.Result, vm: sandbox.Target) -> None:
        self.assertTrue(vm.still_alive_after(), f'pid {vm.pid} died\n' + r.describe())

    def assertGone(self, r: sandbox.Result, vm: sandbox.Target) -> None:
        self.assertTrue(vm.gone_within(5), f'pid {vm.pid} still alive\n' + r.describe())

    def assertNoInstanceLeft(self) -> None:
        self.assertTrue(SB.door.wait_idle(10), f'instances left: {SB.door.instances()}')

    def varlink(self, user, *messages: str, extra: list[str] = (), timeout: float = 60):
        """A bare Varlink peer running as `user`; its replies, parsed where they are JSON."""
        argv = ['python3', CLIENT, SB.door.path, *extra]
        for m in messages:
            argv += ['--send', m]
        r = SB.run_as(user, argv, timeout=timeout)
        self.assertEqual(r.returncode, 0, r.describe())
        replies = []
        for line in r.stdout.splitlines():
            try:
                replies.append(json.loads(line))
            except ValueError:
                replies.append(line)
        return r, replies


class Calls(DoorTestCase):
    """Twins of test_polkit.py's Pkexec cases, through the socket."""

    def test_member_delivered(self):
        vm = SB.spawn_vm()
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--signal', 'TERM', '--json'])
        self.assertExit(r, OK)
        self.assertGone(r, vm)
        self.assertEqual(json_lines(r)[0]['door'], 'socket')
        # The signal is on record before it is reported, as through pkexec.
        sent = self.assertAudited(r, SB.member.uid, vm.pid)
        lines = [rec.message for rec in r.audit()]
        i_sent = [i for i, ln in enumerate(lines) if f' pid={vm.pid} ' in ln and ' event=sending ' in ln]
        i_done = [i for i, ln in enumerate(lines) if f' pid={vm.pid} ' in ln
                  and ' outcome=delivered ' in ln]
        self.assertEqual((len(i_sent), len(i_done)), (1, 1), r.describe())
        self.assertLess(i_sent[0], i_done[0])
        self.assertTrue(all(' door=socket ' in ln for ln in sent))
        # The instance logged it, as the helper user: never root, never the caller.
        senders = {rec.pid for rec in r.audit()}
        self.assertEqual(len(senders), 1, r.describe())
        self.assertNoInstanceLeft()

    def test_self_elevation_takes_the_socket_when_it_answers(self):
        vm = SB.spawn_vm()
        r = SB.signal_direct(SB.member, ['--pid', str(vm.pid), '--json'])
        self.assertExit(r, OK)
        self.assertGone(r, vm)
        self.assertEqual(json_lines(r)[0]['door'], 'socket')
        self.assertEqual(r.audit('pkexec'), [], r.describe())   # pkexec never ran

    def test_outsider_not_authorized(self):
        vm = SB.spawn_vm()
        r = SB.through_socket(SB.other, ['--pid', str(vm.pid), '--json'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertAlive(r, vm)
        obj = json_lines(r)[0]
        self.assertEqual((obj['door'], obj['code'], obj['outcome']), ('socket', 7, 'not-authorized'))
        # The same words as pkexec's refusal of the same caller (test_polkit.py).
        self.assertIn('polkit refused org.banger.signal.run for this user', obj['reason'])
        self.assertIn('polkit refused', r.stderr)
        # Unlike through pkexec, the refusal is the helper's own: it is logged.
        self.assertAudited(r, SB.other.uid, vm.pid, 'not-authorized')

    def test_impostor_refused(self):
        if not SB.impostor:
            self.skipTest('no impostor binary given (BANGER_E2E_IMPOSTOR)')
        impostor = SB.spawn_impostor()
        r = SB.through_socket(SB.member, ['--pid', str(impostor.pid)])
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(r, impostor)
        self.assertAudited(r, SB.member.uid, impostor.pid, 'not-managed')

    def test_foreign_process_refused(self):
        stranger = SB.spawn_vm(cgroup=SB.foreign_cgroup)
        r = SB.through_socket(SB.member, ['--pid', str(stranger.pid)])
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(r, stranger)

    def test_pid_1_protected(self):
        r = SB.through_socket(SB.member, ['--pid', '1'])
        self.assertExit(r, PROTECTED)
        self.assertAudited(r, SB.member.uid, 1, 'protected')

    def test_the_peer_is_protected(self):
        # The peer is the instance's caller: a raw peer naming its own pid gets 6.
        vm = SB.spawn_vm()
        script = ('import json, os, socket, sys\n'
                  's = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])\n'
                  'm = {"method": "io.banger.Signal.Signal", "parameters": {"pids": [os.getpid()]}}\n'
                  's.sendall(json.dumps(m).encode() + b"\\0")\n'
                  'print(s.recv(65536).rstrip(b"\\0").decode())\n')
        r = SB.run_as(SB.member, ['python3', '-c', script, SB.door.path])
        reply = json.loads(r.stdout)
        self.assertEqual(reply['parameters']['targets'][0]['code'], PROTECTED, r.describe())
        self.assertAlive(r, vm)

    def test_stop_refused(self):
        # The command line refuses STOP before it connects (as before it elevates); a raw
        # peer gets the same 5 from the instance, on record.
        vm = SB.spawn_vm()
        r, replies = self.varlink(SB.member, json.dumps(
            {'method': 'io.banger.Signal.Signal',
             'parameters': {'pids': [vm.pid], 'signal': 'STOP'}}))
        self.assertEqual(replies[0]['error'], 'io.banger.Signal.SignalRefused', r.describe())
        self.assertEqual(replies[0]['parameters']['code'], SIGNAL_REFUSED)
        self.assertEqual(replies[0]['parameters']['targets'][0]['pid'], vm.pid)
        self.assertAlive(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid, 'signal-refused')
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--signal', 'STOP'])
        self.assertExit(r, SIGNAL_REFUSED)
        self.assertAlive(r, vm)

    def test_config_refused(self):
        # --config is root's alone: a raw peer cannot even say it (no such parameter).
        r, replies = self.varlink(SB.member, json.dumps(
            {'method': 'io.banger.Signal.Signal',
             'parameters': {'pids': [1234], 'config': '/tmp/evil.toml'}}))
        self.assertEqual(replies[0]['error'], 'org.varlink.service.InvalidParameter', r.describe())
        self.assertEqual(replies[0]['parameters'], {'parameter': 'config'})


class Peers(DoorTestCase):
    """Who the peer is, as the kernel says, and what it may hold the instance for."""

    def test_a_setuid_peer_is_nobodys(self):
        # Real uid bsmember, effective uid bsother (as a setuid program of bsother's run by
        # bsmember would be): the connection's uid is bsother's. polkit would take the
        # process for bsother's; the instance refuses to ask about it at all.
        vm = SB.spawn_vm()
        m, o = SB.member, SB.other
        message = json.dumps({'method': 'io.banger.Signal.Signal', 'parameters': {'pids': [vm.pid]}})
        argv = ['setpriv', f'--ruid={m.uid}', f'--euid={o.uid}', f'--rgid={m.gid}', f'--egid={o.gid}',
                '--clear-groups', '--', 'python3', CLIENT, SB.door.path, '--send', message]
        r = subprocess.run(argv, env=SB.user_env(m), cwd='/', capture_output=True, text=True, timeout=60)
        reply = json.loads(r.stdout.splitlines()[0])
        self.assertEqual(reply['error'], 'io.banger.Signal.NotAuthorized', r.stdout + r.stderr)
        self.assertIn(f'connected as uid {o.uid} but its real uid is {m.uid}', reply['parameters']['reason'])
        self.assertTrue(vm.still_alive_after())

    def test_introspection_is_bounded(self):
        # varlinkctl asks a handful; a peer asking on and on keeps no instance for itself.
        info = json.dumps({'method': 'org.varlink.service.GetInfo'})
        r, replies = self.varlink(SB.other, *[info] * 10)
        self.assertEqual([x.get('parameters', {}).get('product') for x in replies[:9]], ['banger-signal'] * 9,
                         r.describe())
        self.assertEqual(replies[9]['error'], 'io.banger.Signal.MalformedRequest', r.describe())
        self.assertIn('introspection calls', replies[9]['parameters']['reason'])
        self.assertNoInstanceLeft()

    def test_a_broken_unit_reads_nothing(self):
        # Started without its capabilities (a unit that lost AmbientCapabilities=): the
        # instance says so and reads nothing of its peer's, not even to tell it is no call.
        SB.stop_door()
        self.addCleanup(lambda: (SB.stop_door(), SB.start_door()))
        SB.start_door(caps='')
        r, replies = self.varlink(SB.member, 'not even json')
        self.assertEqual(replies[0]['error'], 'io.banger.Signal.ConfigError', r.describe())
        self.assertIn('lacks CAP_KILL', replies[0]['parameters']['reason'])
        self.assertTrue(any('outcome=config-error' in rec.message for rec in r.audit()), r.describe())


class AdminRule(DoorTestCase):
    """Twin of test_polkit.py's AdminRule: an admin's rule narrows both doors alike."""

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
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--signal', 'KILL'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertAlive(r, vm)
        self.assertAudited(r, SB.member.uid, vm.pid, 'not-authorized')
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--signal', 'TERM'])
        self.assertExit(r, OK)
        self.assertGone(r, vm)

    def test_kill_after_needs_kill_too(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--kill-after', '1'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertAlive(r, vm)


class Operations(DoorTestCase):
    """--wait, --kill-after and --list through the socket (test_doctor.py's twins)."""

    def test_wait_sees_the_exit(self):
        vm = SB.spawn_vm()
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--wait', '5', '--json'])
        self.assertExit(r, OK)
        obj = json_lines(r)[0]
        self.assertIn('; exited', obj['reason'])
        self.assertNoInstanceLeft()

    def test_kill_after_escalates(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--kill-after', '0.5', '--json'])
        self.assertExit(r, OK)
        self.assertIs(json_lines(r)[0]['escalated'], True, r.describe())
        self.assertGone(r, vm)
        logged = [rec.message for rec in r.audit() if f' pid={vm.pid} ' in rec.message]
        self.assertEqual([' signal=TERM event=sending ' in logged[0], ' signal=KILL event=sending ' in logged[1]],
                         [True, True], r.describe())
        self.assertIn('escalated=1', logged[2])

    def test_wait_gives_up(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--wait', '0.5', '--json'])
        self.assertExit(r, STILL_RUNNING)
        self.assertEqual(json_lines(r)[0]['reason'], 'still running 500 ms after TERM')
        self.assertAlive(r, vm)

    def test_list_is_the_pkexec_doors_list(self):
        vms = [SB.spawn_vm(), SB.spawn_vm(api_sock='list-door.sock')]
        via_socket = SB.through_socket(SB.member, ['--list', '--json'])
        via_pkexec = SB.through_pkexec(SB.member, ['--list', '--json'])
        self.assertExit(via_socket, OK)
        self.assertExit(via_pkexec, OK)
        socket_objs = json_lines(via_socket)
        self.assertTrue({v.pid for v in vms} <= {o['pid'] for o in socket_objs}, via_socket.describe())
        self.assertEqual({o['door'] for o in socket_objs}, {'socket'})
        self.assertEqual(but_door(socket_objs), but_door(json_lines(via_pkexec)))
        table = SB.through_socket(SB.member, ['--list'])
        self.assertEqual(table.stdout.splitlines()[0].split(),
                         ['PID', 'MATCH', 'START', 'EXE', 'CGROUP', 'API-SOCK'])

    def test_outsider_cannot_list(self):
        r = SB.through_socket(SB.other, ['--list', '--json'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertEqual(r.stdout, '')


class SameAnswers(DoorTestCase):
    """Output, JSON lines and exit codes are the same whichever door served the call."""

    def test_json_and_stderr_equal_but_for_the_door(self):
        vm = SB.spawn_vm()
        stranger = SB.spawn_vm(cgroup=SB.foreign_cgroup)
        calls = [
            ['--pid', str(vm.pid), '--dry-run', '--json', '--verbose'],
            ['--pid', str(vm.pid), '--pid', str(stranger.pid), '--pid', '1', '--dry-run', '--json'],
            ['--pid', str(vm.pid), '--signal', 'sigkill', '--dry-run', '--json', '--wait', '2'],
            ['--pid', '999999999', '--json'],                      # over pid_max: usage
            ['--pid', str(vm.pid), '--signal', 'STOP', '--json'],  # refused before either door
        ]
        for args in calls:
            with self.subTest(args=args):
                a = SB.through_pkexec(SB.member, args)
                b = SB.through_socket(SB.member, args)
                self.assertEqual(a.returncode, b.returncode, a.describe() + '\n' + b.describe())
                self.assertEqual(but_door(json_lines(a)), but_door(json_lines(b)),
                                 a.describe() + '\n' + b.describe())
                self.assertEqual(a.stderr, b.stderr)
        # The doors say who they are (and no door at all where none was used).
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--dry-run', '--json'])
        self.assertEqual(json_lines(r)[0]['door'], 'socket')
        r = SB.through_pkexec(SB.member, ['--pid', str(vm.pid), '--dry-run', '--json'])
        self.assertEqual(json_lines(r)[0]['door'], 'pkexec')
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--wait', 'x', '--json'])
        self.assertExit(r, USAGE)
        self.assertAlive(r, vm)

    def test_200_targets(self):
        # Twin of test_batches.py: 200 targets, 400 polkit checks (--kill-after).
        with sandbox.Flock(SB, 200, f'{SB.service_cgroup}/door-200') as flock:
            args = [a for pid in flock.pids for a in ('--pid', str(pid))]
            r = SB.through_socket(SB.member, [*args, '--json', '--kill-after', '10'], timeout=300)
            objs = json_lines(r)
            self.assertEqual([o for o in objs if o['code'] != OK][:3], [], r.describe()[:4000])
            self.assertEqual(sorted(o['pid'] for o in objs), sorted(flock.pids))
            self.assertExit(r, OK)
            self.assertEqual(flock.alive_after(30), [])

    def test_4096_targets(self):
        with sandbox.Flock(SB, 4096, f'{SB.service_cgroup}/door-4096') as flock:
            args = [a for pid in flock.pids for a in ('--pid', str(pid))]
            r = SB.through_socket(SB.member, [*args, '--json'], timeout=300)
            objs = json_lines(r)
            self.assertEqual([o for o in objs if o['code'] != OK][:3], [], r.describe()[:4000])
            self.assertEqual(len(objs), 4096)
            self.assertExit(r, OK)
            self.assertEqual(flock.alive_after(30), [])


class NoNewPrivs(DoorTestCase):
    """The point of the door: a caller under no_new_privs (a hardened bangerd unit)."""

    def test_socket_serves_what_pkexec_cannot(self):
        vm = SB.spawn_vm()
        nnp = ['setpriv', '--no-new-privs', '--']
        r = SB.run_as(SB.member, [*nnp, SB.installed_binary, '--door', 'pkexec', '--pid', str(vm.pid),
                                  '--json'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertEqual(json_lines(r)[0]['elevation'], 'pkexec-failed', r.describe())
        self.assertIn('pkexec must be setuid root', r.stderr)
        self.assertAlive(r, vm)
        r = SB.run_as(SB.member, [*nnp, SB.installed_binary, '--pid', str(vm.pid), '--json'])
        self.assertExit(r, OK)
        self.assertEqual(json_lines(r)[0]['door'], 'socket')
        self.assertGone(r, vm)


class Malformed(DoorTestCase):
    """A request that is no call gets an error reply, is logged, and nothing is signalled."""

    def test_table(self):
        vm = SB.spawn_vm()
        p = vm.pid
        rows = [
            ('not json', 'io.banger.Signal.MalformedRequest'),
            ('[]', 'io.banger.Signal.MalformedRequest'),
            (f'{{"method":"io.banger.Signal.Signal","parameters":{{"pids":[{p}],"pids":[{p}]}}}}',
             'io.banger.Signal.MalformedRequest'),
            (f'{{"method":"io.banger.Signal.Signal","parameters":{{"pids":[{p}]}},"upgrade":true}}',
             'io.banger.Signal.MalformedRequest'),
            (f'{{"method":"io.banger.Signal.Signal","parameters":{{"pids":["{p}"]}}}}',
             'org.varlink.service.InvalidParameter'),
            (f'{{"method":"io.banger.Signal.Signal","parameters":{{"pids":[{p}],"signal":9}}}}',
             'org.varlink.service.InvalidParameter'),
            (f'{{"method":"io.banger.Signal.Signal","parameters":{{"pids":[{p}],"force":true}}}}',
             'org.varlink.service.InvalidParameter'),
            (f'{{"method":"io.banger.Signal.Kill","parameters":{{"pids":[{p}]}}}}',
             'org.varlink.service.MethodNotFound'),
            (f'{{"method":"io.systemd.Unit.Kill","parameters":{{"pids":[{p}]}}}}',
             'org.varlink.service.InterfaceNotFound'),
        ]
        for message, error in rows:
            with self.subTest(message=message):
                r, replies = self.varlink(SB.member, message)
                self.assertEqual(replies[0].get('error') if isinstance(replies[0], dict) else replies,
                                 error, r.describe())
                self.assertTrue(any(' door=socket ' in rec.message and 'outcome=usage-error' in rec.message
                                    for rec in r.audit()), r.describe())
        # Over the size limit: answered once the limit is passed, the rest never read.
        huge = '/tmp/e2e-huge-call'
        SB.write_file(huge, '{"method":"io.banger.Signal.Signal","parameters":{"pids":[' + ' ' * (200 * 1024)
                      + f'{p}]}}}}')
        self.addCleanup(os.unlink, huge)
        r, replies = self.varlink(SB.member, extra=['--send-file', huge], timeout=30)
        self.assertEqual(replies[0]['error'], 'io.banger.Signal.MalformedRequest', r.describe())
        self.assertIn('longer than', replies[0]['parameters']['reason'])
        self.assertAlive(r, vm)
        self.assertNoInstanceLeft()

    def test_fuzz_corpus(self):
        vms = [SB.spawn_vm(), SB.spawn_vm(api_sock='corpus.sock')]
        for name in sorted(os.listdir(CORPUS)):
            with self.subTest(seed=name):
                r = SB.run_as(SB.member, ['python3', CLIENT, SB.door.path,
                                          '--send-file', os.path.join(CORPUS, name)])
                reply = r.stdout.splitlines()[0] if r.stdout else ''
                parsed = json.loads(reply)   # every seed is answered, with one JSON object
                self.assertTrue({'parameters', 'error'} >= set(parsed), reply)
        for vm in vms:
            self.assertTrue(vm.alive(), f'pid {vm.pid} died')
        self.assertNoInstanceLeft()

    def test_introspection(self):
        r, replies = self.varlink(SB.other, json.dumps({'method': 'org.varlink.service.GetInfo'}),
                                  json.dumps({'method': 'org.varlink.service.GetInterfaceDescription',
                                              'parameters': {'interface': 'io.banger.Signal'}}))
        info, described = replies
        self.assertEqual(info['parameters']['product'], 'banger-signal', r.describe())
        self.assertIn('io.banger.Signal', info['parameters']['interfaces'])
        idl = described['parameters']['description']
        self.assertIn('interface io.banger.Signal\n', idl)
        self.assertIn('method Signal(', idl)
        # Introspection decides nothing: nothing is logged.
        self.assertEqual(r.audit(), [], r.describe())


class Hangups(DoorTestCase):
    """A caller that goes away, or is interrupted, mid-call."""

    def test_peer_hangs_up_during_a_wait(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        started = time.monotonic()
        r = SB.run_as(SB.member, ['python3', CLIENT, SB.door.path, '--hangup-after', '1', '--send',
                                  json.dumps({'method': 'io.banger.Signal.Signal',
                                              'parameters': {'pids': [vm.pid], 'wait': 30}})])
        self.assertIn('HUNG UP', r.stdout, r.describe())
        self.assertNoInstanceLeft()
        self.assertLess(time.monotonic() - started, 15)   # not the 30 s wait
        SB.syslog.sync()
        lines = [rec.message for rec in SB.syslog.since(0) if f' pid={vm.pid} ' in rec.message
                 and rec.ident == 'banger-signal']
        self.assertTrue(any(' event=sending ' in ln for ln in lines), lines)
        done = [ln for ln in lines if ' outcome=still-running ' in ln]
        self.assertEqual(len(done), 1, lines)
        self.assertIn('the caller stopped waiting', done[0])

    def test_ctrl_c_ends_the_wait_and_prints_the_answer(self):
        vm = SB.spawn_vm(env={'STANDIN_IGNORE_TERM': '1'})
        argv = SB.as_user_argv(SB.member, [SB.installed_binary, '--door', 'socket', '--pid',
                                           str(vm.pid), '--wait', '30', '--json'])
        p = subprocess.Popen(argv, env=SB.user_env(SB.member), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not SB.door.instances() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)   # in the wait by now
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=15)
        self.assertEqual(p.returncode, STILL_RUNNING, out + err)
        obj = json.loads(out)
        self.assertEqual(obj['door'], 'socket')
        self.assertIn('the caller stopped waiting', obj['reason'])
        self.assertTrue(vm.alive())
        self.assertNoInstanceLeft()


    @unittest.skipUnless(os.access(TESTHOOKS, os.X_OK), 'needs banger-signal-testhooks')
    def test_peer_gone_before_polkit(self):
        # Twin of test_caller.py: the peer sends its call and is gone before the gate is
        # asked: polkit is never asked about a process that is not the caller.
        vm = SB.spawn_vm()
        pause_dir = os.path.join(SB.workspace, 'pause-serving')
        os.makedirs(pause_dir, exist_ok=True)
        pause = Pause(pause_dir, 'serving', mode=0o666)
        self.addCleanup(pause.close)
        SB.stop_door()
        self.addCleanup(lambda: (SB.stop_door(), SB.start_door()))
        SB.start_door(binary=TESTHOOKS, env=pause.env)
        argv = SB.as_user_argv(SB.member, ['python3', CLIENT, SB.door.path, '--send',
                                           json.dumps({'method': 'io.banger.Signal.Signal',
                                                       'parameters': {'pids': [vm.pid]}})])
        peer = subprocess.Popen(argv, env=SB.user_env(SB.member), stdout=subprocess.DEVNULL)
        pause.wait()
        time.sleep(0.3)          # its call is in the connection by now
        peer.kill()
        peer.wait()
        mark = SB.syslog.mark()
        pause.resume()
        self.assertNoInstanceLeft()
        SB.syslog.sync()
        lines = [rec.message for rec in SB.syslog.since(mark, 'banger-signal')
                 if f' pid={vm.pid} ' in rec.message]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn(' outcome=not-authorized ', lines[0])
        self.assertIn(f'caller (pid {peer.pid}) exited before polkit was asked', lines[0])
        self.assertTrue(vm.still_alive_after())


@unittest.skipUnless(os.access(TESTHOOKS, os.X_OK), 'needs banger-signal-testhooks (-Dtest_hooks=true)')
class OtherWays(DoorTestCase):
    """The way Debian 12 pins its peer, and the way Debian 13's polkit is asked."""

    ENV: dict[str, str] = {}

    @classmethod
    def setUpClass(cls):
        SB.stop_door()
        SB.start_door(binary=TESTHOOKS, env=cls.ENV)

    @classmethod
    def tearDownClass(cls):
        SB.stop_door()
        SB.start_door()

    def test_member_delivered_outsider_refused(self):
        vm = SB.spawn_vm()
        r = SB.through_socket(SB.other, ['--pid', str(vm.pid)])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertAlive(r, vm)
        r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--json'])
        self.assertExit(r, OK)
        self.assertGone(r, vm)


class PeerByPid(OtherWays):
    """No SO_PEERPIDFD (Linux before 6.5): the peer is pinned by pid, and must hold the
    connection."""

    ENV = {'BANGER_TEST_PEER_PIDFD': 'off'}

    def test_a_pid_that_does_not_hold_the_connection_is_nobodys(self):
        # The connector hands the connection to its child and lets go of it, alive: by
        # pid it is no longer the peer, and polkit is never asked about it.
        vm = SB.spawn_vm()
        pause_dir = os.path.join(SB.workspace, 'pause-give-away')
        os.makedirs(pause_dir, exist_ok=True)
        SB.stop_door()
        pause = Pause(pause_dir, 'accepted', mode=0o666)
        self.addCleanup(pause.close)
        self.addCleanup(lambda: (SB.stop_door(), SB.start_door(binary=TESTHOOKS, env=self.ENV)))
        SB.start_door(binary=TESTHOOKS, env={**self.ENV, **pause.env})
        argv = SB.as_user_argv(SB.member, ['python3', CLIENT, SB.door.path, '--give-away', '--send',
                                           json.dumps({'method': 'io.banger.Signal.Signal',
                                                       'parameters': {'pids': [vm.pid]}})])
        p = subprocess.Popen(argv, env=SB.user_env(SB.member), stdout=subprocess.PIPE, text=True)
        pause.wait()
        time.sleep(0.5)       # the connector has closed its copy by now
        pause.resume()
        out, _ = p.communicate(timeout=30)
        reply = json.loads(out.splitlines()[0])
        self.assertEqual(reply['error'], 'io.banger.Signal.NotAuthorized', out)
        self.assertIn('does not hold the caller', reply['parameters']['reason'])
        self.assertTrue(vm.still_alive_after())


class SubjectsByPidfd(OtherWays):
    """polkit's subject named by pidfd, as on polkit 124+ (an older polkitd, here, reads
    pid and start time from the same message): the checks' D-Bus path of our own."""

    ENV = {'BANGER_TEST_PIDFD_SUBJECTS': 'always'}

    def test_admin_rule_still_narrows(self):
        rule = '/etc/polkit-1/rules.d/10-e2e-deny-banger-kill.rules'
        SB.write_file(rule, DENY_KILL_RULE % SB.privileged_group)
        SB.wait_authorization(SB.member, 'org.banger.signal.kill', expected=False)
        try:
            vm = SB.spawn_vm()
            r = SB.through_socket(SB.member, ['--pid', str(vm.pid), '--signal', 'KILL'])
            self.assertExit(r, NOT_AUTHORIZED)
            self.assertAlive(r, vm)
        finally:
            os.unlink(rule)
            SB.wait_authorization(SB.member, 'org.banger.signal.kill', expected=True)


class Doctor(DoorTestCase):
    """--doctor checks the socket and tells this user which door it gets, and why."""

    LINE = re.compile(r'^(OK  |WARN|FAIL)  ([^:]+): (.*)$', re.M)

    def doctor(self, argv_prefix: list[str]) -> tuple[sandbox.Result, dict[str, tuple[str, str]]]:
        r = SB.run_as(SB.member, [*argv_prefix, SB.installed_binary, '--doctor'])
        return r, {m[2]: (m[1].strip(), m[3]) for m in self.LINE.finditer(r.stdout)}

    def test_the_door_is_named(self):
        r, lines = self.doctor([])
        self.assertExit(r, OK)
        self.assertEqual(lines['socket door'][0], 'OK', r.describe())
        self.assertIn(f'{SB.door.path} answers', lines['socket door'][1])
        self.assertEqual(lines['door'][0], 'OK')
        self.assertIn('calls take the socket door', lines['door'][1])
        # A hardened daemon: told why pkexec would not do, and that the socket does.
        r, lines = self.doctor(['setpriv', '--no-new-privs', '--'])
        self.assertExit(r, OK)
        self.assertIn('no_new_privs, so pkexec could not elevate it', lines['door'][1])

    def test_no_door_for_a_hardened_daemon_without_the_socket(self):
        SB.stop_door()
        self.addCleanup(SB.start_door)
        r, lines = self.doctor(['setpriv', '--no-new-privs', '--'])
        self.assertExit(r, 8)
        self.assertEqual(lines['door'][0], 'FAIL', r.describe())
        self.assertIn('no door', lines['door'][1])
        self.assertEqual(lines['socket door'][0], 'WARN')


class Instance(DoorTestCase):
    """What the instance is while it works: the helper user, the working capabilities
    alone, no_new_privs, the seccomp filter; in the door's cgroup, not the caller's."""

    @unittest.skipUnless(os.access(TESTHOOKS, os.X_OK), 'needs banger-signal-testhooks')
    def test_credentials_while_judging(self):
        vm = SB.spawn_vm()
        pause_dir = os.path.join(SB.workspace, 'pause-judged')
        os.makedirs(pause_dir, exist_ok=True)
        pause = Pause(pause_dir, 'judged', mode=0o666)
        self.addCleanup(pause.close)
        SB.stop_door()
        self.addCleanup(lambda: (SB.stop_door(), SB.start_door()))
        SB.start_door(binary=TESTHOOKS, env=pause.env)
        argv = SB.as_user_argv(SB.member, [SB.installed_binary, '--door', 'socket', '--pid', str(vm.pid)])
        p = subprocess.Popen(argv, env=SB.user_env(SB.member), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        pause.wait()
        instances = SB.door.instances()
        self.assertEqual(len(instances), 1)
        pid = instances[0]
        with open('/etc/passwd', encoding='utf-8') as f:
            helper = [ln.split(':') for ln in f if ln.startswith(SB.helper_user + ':')][0]
        for task in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{task}/status', encoding='ascii') as f:
                status = dict(ln.split(':', 1) for ln in f.read().splitlines() if ':' in ln)
            fields = {k: v.split() for k, v in status.items()}
            self.assertEqual(set(fields['Uid']), {helper[2]}, status)
            # Every fact read, about to signal: CAP_KILL alone (issue 17, 1).
            self.assertEqual(fields['CapEff'], ['0000000000000020'])
            self.assertEqual(fields['CapPrm'], ['0000000000000020'])
            self.assertEqual(fields['CapAmb'], ['0000000000000000'])
            self.assertEqual(fields['CapInh'], ['0000000000000000'])
            self.assertEqual(fields['NoNewPrivs'], ['1'])
            self.assertEqual(fields['Seccomp'], ['2'])
        with open(f'/proc/{pid}/cgroup', encoding='ascii') as f:
            self.assertIn(f'0::{SB.door_cgroup}\n', f.read())
        pause.resume()
        _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, OK, err)


class All(AllCases, DoorTestCase):
    """--all through the socket (twin of test_polkit.py's All)."""

    DOOR = 'socket'

    def sb(self) -> sandbox.Sandbox:
        return SB

    def call(self, user, args: list[str]) -> sandbox.Result:
        return SB.through_socket(user, args)

    def test_all_outsider_refused_whole(self):
        vms, others = self.world()
        r = SB.through_socket(SB.other, ['--all', '--json'])
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertAllAlive(r, vms + others)


class Stall(StallCases, DoorTestCase):
    """The judging deadline through the socket (twin of test_polkit.py's Stall)."""

    def sb(self) -> sandbox.Sandbox:
        return SB

    def call(self, user, args: list[str]) -> sandbox.Result:
        return SB.through_socket(user, args)

    def stalled_call(self, fs, args: list[str]) -> Stalled:
        started = time.monotonic()
        r = SB.through_socket(SB.member, args)
        answered = time.monotonic() - started
        fs.abort()                  # the instance, answered, may still wait on it
        self.assertNoInstanceLeft()
        return Stalled(r.returncode, r.stdout, r.stderr, answered, r.log)


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
