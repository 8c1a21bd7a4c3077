#!/usr/bin/env python3
"""The end-to-end sandbox from the command line: a demo, or a shell inside it.

    python3 tests/e2e/sandbox.py --builddir build demo
    python3 tests/e2e/sandbox.py --builddir build shell [-- CMD ARG...]

Real pkexec, a real polkitd and a real system bus in a private mount namespace, the
build installed at its real path, test users bsmember (in the privileged group) and
bsother; the host is left as it was. The sandbox itself is banger_test.sandbox
(tests/lib/banger_test/sandbox/, described there); the e2e tests, bench/run and
tools/demo use it.

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True   # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'lib'))
from banger_test import sandbox  # noqa: E402
from banger_test.sandbox.base import say  # noqa: E402


def _decision(r: sandbox.Result) -> str:
    """The binary's own words: its JSON line if it printed one, else its stderr."""
    for ln in r.stdout.splitlines():
        try:
            obj = json.loads(ln)
        except ValueError:
            continue
        if isinstance(obj, dict) and 'outcome' in obj:
            reason = f" ({obj['reason']})" if obj.get('reason') else ''
            return f"{obj['outcome']}{reason}"
    return r.stderr.strip().replace('\n', ' / ') or '(no output)'


def _show(sb: sandbox.Sandbox, user, argv: list[str], target: sandbox.Target | None,
          label: str) -> sandbox.Result:
    r = sb.run_as(user, argv)
    shown = ' '.join(os.path.basename(a) if a == sb.installed_binary else a for a in argv)
    print(f'{user.name}$ {shown}   # {label}')
    fate = ''
    if target is not None:
        fate = f'; target {"terminated" if not target.still_alive_after(0.3) else "still running"}'
    print(f'  exit {r.returncode}: {_decision(r)}{fate}')
    for rec in r.audit():
        print(f'  audit: {rec.message}')
    if not r.audit():   # banger-signal never ran: say why, in pkexec's words
        for rec in r.audit('pkexec'):
            print(f'  pkexec: {rec.message}')
    print()
    return r


def demo(sb: sandbox.Sandbox) -> int:
    assert sb.member and sb.other
    print(f'sandbox ready: private system bus, polkitd, {sb.installed_binary} installed')
    print(f'  {sb.member.name} (uid {sb.member.uid}) is in group {sb.privileged_group}; '
          f'{sb.other.name} (uid {sb.other.uid}) is not')
    door = sb.start_door()
    print(f'  socket door: {door.path}, one instance per connection as {sb.helper_user} '
          f'(systemd-socket-activate --accept, as banger-signal.socket would)')
    vms = [sb.spawn_vm() for _ in range(3)]
    print(f'  VMs:      stand-in firecracker pids {", ".join(str(v.pid) for v in vms)}, '
          f'cgroup {vms[0].cgroup}')
    if sb.impostor and os.access(sb.impostor, os.X_OK):
        imp = sb.spawn_impostor()
        what = (f'exe {os.path.basename(sb.impostor)}, argv[0] "firecracker", serving '
                f'{sb.runtime_dir}/impostor.sock')
    else:
        imp = sb.spawn_vm(cgroup=sb.foreign_cgroup)
        what = 'a firecracker outside bangerd\'s cgroup, no api socket'
    print(f'  impostor: pid {imp.pid}, {what}, cgroup {imp.cgroup}')
    print()
    binary = sb.installed_binary
    nnp = ['setpriv', '--no-new-privs', '--']
    results = [
        (_show(sb, sb.member, ['pkexec', binary, '--pid', str(imp.pid), '--json'], imp,
               'impostor, through pkexec'), False),
        (_show(sb, sb.other, [binary, '--pid', str(vms[0].pid), '--json'], vms[0],
               'VM, caller not in the group (the socket door: polkit says no)'), False),
        (_show(sb, sb.member, ['pkexec', binary, '--pid', str(vms[0].pid), '--json'], vms[0],
               'VM, through pkexec'), True),
        (_show(sb, sb.member, [binary, '--pid', str(vms[1].pid), '--json'], vms[1],
               'VM, through the socket door (the default when it answers)'), True),
        (_show(sb, sb.member, [*nnp, binary, '--door', 'pkexec', '--pid', str(vms[2].pid), '--json'],
               vms[2], 'a hardened daemon (no_new_privs): pkexec cannot elevate'), False),
        (_show(sb, sb.member, [*nnp, binary, '--pid', str(vms[2].pid), '--json'], vms[2],
               'the same daemon through the socket door'), True),
    ]
    return 0 if all((r.returncode == 0) == ok for r, ok in results) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--builddir', default=os.environ.get('BANGER_E2E_BUILDDIR', 'build'))
    ap.add_argument('--standin', default=os.environ.get('BANGER_E2E_STANDIN'),
                    help='stand-in firecracker (default BUILDDIR/tests/standin/firecracker)')
    ap.add_argument('--impostor', default=os.environ.get('BANGER_E2E_IMPOSTOR'))
    ap.add_argument('--no-rebuild', action='store_true',
                    help='install what is built, without running ninja first')
    ap.add_argument('-v', '--verbose', action='store_true')
    sub = ap.add_subparsers(dest='cmd', required=True)
    sub.add_parser('demo', help='a group member signals stand-in VMs and an impostor, through both doors')
    sh = sub.add_parser('shell', help='run CMD (default: an interactive shell) in the sandbox')
    sh.add_argument('--door', action='store_true', help='with the socket door listening')
    sh.add_argument('command', nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)

    problem = sandbox.host_problem()
    if problem:
        skip, why = problem
        say(f'cannot run: {why}')
        return sandbox.SKIP if skip else 1
    builddir = os.path.abspath(args.builddir)
    if args.impostor is None:
        guess = os.path.join(builddir, 'tests', 'standin', 'fc-impostor')
        args.impostor = guess if os.access(guess, os.X_OK) else None
    sandbox.enter()   # re-executes this script; returns inside
    with sandbox.Sandbox(builddir, standin=args.standin, impostor=args.impostor,
                         rebuild=not args.no_rebuild, verbose=args.verbose) as sb:
        if args.cmd == 'demo':
            return demo(sb)
        if args.door:
            sb.start_door()
        command = args.command[1:] if args.command[:1] == ['--'] else args.command
        if not command:
            command = [os.environ.get('SHELL', '/bin/sh'), '-i']
        env = dict(os.environ)
        for k in (sandbox.ENV_INSIDE, sandbox.ENV_WORKSPACE, sandbox.ENV_CGROUP_NAME):
            env.pop(k, None)
        env.update(sb.info())
        return subprocess.run(command, env=env, check=False).returncode


if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say('interrupted; sandbox removed')
        sys.exit(130)
