#!/usr/bin/env python3
"""The scenarios of tests/hosts, run as root inside a booted Debian host (systemd as PID 1).

banger-signal is installed from its .deb; this script plays the admin (creates the users,
starts bangerd-root.service and a legacy VM), and runs every call the way a real bangerd
would: as user `bangerd` in a system service of its own (no password, no tty, no session,
no authentication agent). Each result goes to /dev/ttyS1 as one line

    BANGER-HOSTS {"name": ..., "status": "pass" | "fail", "detail": ...}

and the host (tests/hosts/run.py) prints them. world.py has the set-up and the helpers. The host imports this file for SCENARIOS
only, so nothing runs at import.

Python 3 standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import time
import traceback

from world import (BINARY, DAEMON, Failure, GROUP, HELPER_USERS, Host, LEGACY_SOCK, OUTSIDER,
                   PKEXEC, POLICY_ACTION, SERVICE_CGROUP, say, alive, call_summary,
                   cgroup_of, exe_of, expect, expect_exit, expect_gone, json_lines, report,
                   run, run_as, uid, wait_until)


# ------------------------------------------------------------------------------ scenarios

SCENARIOS: list[tuple[str, str, object]] = []


def scenario(name: str, title: str):
    """Registers a scenario: fn(host) returns what it saw, or raises Failure."""
    def register(fn):
        SCENARIOS.append((name, title, fn))
        return fn
    return register


@scenario('doctor', 'bangerd: --doctor exits 0, every line OK')
def doctor(host: Host) -> str:
    proc = run_as(DAEMON, [BINARY, '--doctor'])
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    not_ok = [line.strip() for line in lines if not line.startswith('OK ')]
    expect(proc.returncode == 0 and lines and not not_ok,
           f'exit {proc.returncode}; not OK: {" | ".join(not_ok)[:400]}')
    return f'{len(lines)} checks OK'


@scenario('list', 'bangerd: --list --json lists exactly the VMs')
def list_vms(host: Host) -> str:
    proc = host.call(DAEMON, [BINARY, '--list', '--json'], 'list')
    expect_exit(proc, 0)
    host.listed = {entry['pid']: entry for entry in json_lines(proc.stdout)}
    # The service's MainPID is judged by its own scenario (mainpid).
    listed = set(host.listed) - {host.mainpid}
    wanted = set(host.vms.values())
    expect(listed == wanted, f'listed {sorted(listed)}, VMs {sorted(wanted)} '
                             f'(impostor {host.impostor}, user service {host.user_service})')
    matches = {pid: host.listed[pid]['match'] for pid in wanted}
    expect(matches[host.vms['legacy-vm']] == 'api-sock'
           and all(m == 'cgroup' for p, m in matches.items() if p != host.vms['legacy-vm']),
           f'matches {matches}')
    return f'{len(wanted)} VMs, legacy by api-sock'


@scenario('self-elevation', 'bangerd: banger-signal --pid A (self-elevation) delivers TERM')
def self_elevation(host: Host) -> str:
    pid = host.vms['vm-a']
    proc = host.call(DAEMON, [BINARY, '--pid', str(pid)], pid)
    expect_exit(proc, 0)
    expect_gone(pid, 'vm-a')
    return f'vm-a ({pid}) stopped'


@scenario('pkexec-kill', 'bangerd: pkexec banger-signal --pid B --signal KILL --json delivers '
                         '(B in a delegated sub-cgroup)')
def pkexec_kill(host: Host) -> str:
    pid = host.vms['vm-b']
    proc = host.call(DAEMON, [PKEXEC, BINARY, '--pid', str(pid), '--signal', 'KILL', '--json'],
                     pid)
    expect_exit(proc, 0)
    [answer] = json_lines(proc.stdout)
    expect(answer['outcome'] == 'delivered' and answer['signal'] == 'KILL'
           and answer['match'] == 'cgroup' and answer['cgroup'] == f'{SERVICE_CGROUP}/vm-b',
           f'answer {answer}')
    expect_gone(pid, 'vm-b')
    return f'vm-b ({pid}) killed, cgroup {answer["cgroup"]}'


@scenario('api-sock', 'bangerd: the legacy VM outside the unit is delivered by its api socket')
def api_sock(host: Host) -> str:
    pid = host.vms['legacy-vm']
    proc = host.call(DAEMON, [BINARY, '--pid', str(pid), '--json'], pid)
    expect_exit(proc, 0)
    [answer] = json_lines(proc.stdout)
    expect(answer['match'] == 'api-sock' and answer['api_sock'] == LEGACY_SOCK,
           f'answer {answer}')
    expect_gone(pid, 'the legacy VM')
    return f'legacy VM ({pid}) stopped, cgroup {answer["cgroup"]}'


@scenario('kill-after', 'bangerd: --kill-after 2 escalates a VM that ignores TERM')
def kill_after(host: Host) -> str:
    pid = host.vms['vm-d']
    started = time.monotonic()
    proc = host.call(DAEMON, [BINARY, '--pid', str(pid), '--kill-after', '2', '--json'], pid)
    took = time.monotonic() - started
    expect_exit(proc, 0)
    [answer] = json_lines(proc.stdout)
    expect(answer['escalated'] is True, f'answer {answer}')
    expect(took >= 2, f'returned after {took:.1f} s, before the 2 s grace')
    expect_gone(pid, 'vm-d')
    return f'vm-d ({pid}) killed after {took:.1f} s'


@scenario('impostor', 'refused (4): a firecracker that bangerd starts in its own scope')
def impostor(host: Host) -> str:
    proc = host.call(DAEMON, [PKEXEC, BINARY, '--pid', str(host.impostor)], host.impostor)
    expect_exit(proc, 4)
    expect(alive(host.impostor), 'the impostor was signalled')
    return f'{cgroup_of(host.impostor)}, exe {exe_of(host.impostor)}'


@scenario('user-service', "refused (4): a user's own user@UID.service/.../bangerd-root.service")
def user_service(host: Host) -> str:
    pid = host.user_service
    proc = host.call(DAEMON, [PKEXEC, BINARY, '--pid', str(pid)], pid)
    expect_exit(proc, 4)
    expect(alive(pid), 'the user service was signalled')
    return cgroup_of(pid)


@scenario('pid-1', 'refused (6): pid 1')
def pid_1(host: Host) -> str:
    proc = host.call(DAEMON, [BINARY, '--pid', '1'], 1)
    expect_exit(proc, 6)
    return 'protected'


@scenario('outsider-pkexec', 'refused (127): pkexec by a user outside the group')
def outsider_pkexec(host: Host) -> str:
    pid = host.vms['vm-e']
    proc = run_as(OUTSIDER, [PKEXEC, BINARY, '--pid', str(pid)])
    expect_exit(proc, 127)
    expect(alive(pid), 'the VM was signalled')
    return 'VM still alive'


@scenario('outsider-self', 'refused (7): self-elevation by a user outside the group')
def outsider_self(host: Host) -> str:
    pid = host.vms['vm-e']
    proc = run_as(OUTSIDER, [BINARY, '--pid', str(pid)])
    expect_exit(proc, 7)
    expect(alive(pid), 'the VM was signalled')
    return 'VM still alive'


@scenario('mainpid', "refused (6): the service's own MainPID, and absent from --list")
def mainpid(host: Host) -> str:
    # Last of the calls: were the MainPID accepted, this would stop the service.
    listing = host.call(DAEMON, [BINARY, '--list', '--json'], 'list')
    expect_exit(listing, 0)
    in_list = any(e['pid'] == host.mainpid for e in json_lines(listing.stdout))
    proc = host.call(DAEMON, [PKEXEC, BINARY, '--pid', str(host.mainpid)], host.mainpid)
    seen = f'{call_summary(proc)}; {"in" if in_list else "not in"} --list'
    expect(proc.returncode == 6 and not in_list, seen)
    expect(alive(host.mainpid), 'the MainPID was signalled although refused')
    return 'protected, not listed'


@scenario('audit', 'the journal has every decision, sent by the helper, naming the caller')
def audit(host: Host) -> str:
    entries = helper_journal()
    allowed = helper_uids()
    missing, foreign = [], []
    for caller, target, code in host.decisions:
        found = [e for e, d in entries if d.get('caller_uid') == str(caller)
                 and (d.get('list') == '1' if target == 'list' else
                      d.get('pid') == target and d.get('code') == str(code))]
        if not found:
            missing.append(f'uid {caller} {target} exit {code}')
        foreign += [f'uid {e.get("_UID")}: {e.get("MESSAGE")}' for e in found
                    if e.get('_UID') not in allowed]
    expect(not missing, f'not in the journal: {", ".join(missing)}')
    expect(not foreign, f'sent by others than uid {sorted(allowed)}: {" | ".join(foreign)[:600]}')
    return f'{len(host.decisions)} decisions, all sent by uid {sorted(allowed)}'


@scenario('audit-no-caller-lines', "no line under the helper's name is sent by a caller")
def audit_no_caller_lines(host: Host) -> str:
    allowed = helper_uids()
    callers = {str(uid(DAEMON)), str(uid(OUTSIDER))}
    entries = helper_journal()
    strangers = [f'uid {e.get("_UID")}: {e.get("MESSAGE")}' for e, _ in entries
                 if e.get('_UID') not in allowed]
    expect(not strangers, f'sent by others than uid {sorted(allowed)} (the callers are uid '
                          f'{sorted(callers)}): {" | ".join(strangers)[:600]}')
    return f'{len(entries)} lines, all sent by uid {sorted(allowed)}'


def helper_journal() -> list[tuple[dict, dict]]:
    """This boot's journal entries under the helper's name, each with its audit fields."""
    run(['journalctl', '--sync'])
    entries = json_lines(run(['journalctl', '-b', '-t', 'banger-signal', '-o', 'json',
                              '--no-pager']).stdout)
    return [(e, fields(e.get('MESSAGE', '') if isinstance(e.get('MESSAGE'), str) else ''))
            for e in entries]


def helper_uids() -> set[str]:
    allowed = set()
    for name in HELPER_USERS:
        try:
            allowed.add(str(uid(name)))
        except KeyError:
            pass
    return allowed


def fields(message: str) -> dict[str, str]:
    """key=value fields of an audit line; quoted values keep their backslash escapes."""
    return {m[1]: m[2] for m in re.finditer(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)', message)}


@scenario('reinstall', 'apt-get install --reinstall and dpkg -i of the same version')
def reinstall(host: Host) -> str:
    run(['apt-get', 'install', '--reinstall', '-y', host.deb])
    run(['dpkg', '-i', host.deb])
    run(['pkaction', '--action-id', POLICY_ACTION])
    expect_exit(run_as(DAEMON, [BINARY, '--doctor']), 0)
    return 'doctor still exits 0'


@scenario('purge', 'apt-get purge leaves no file behind; pkaction no longer lists the policy')
def purge(host: Host) -> str:
    expect(len(host.package_files) > 5, f'file list {host.package_files}')
    run(['apt-get', 'purge', '-y', 'banger-signal'])
    left = [p for p in host.package_files if p and os.path.lexists(p) and not _shared_dir(p)]
    expect(not left, f'left behind: {left}')
    expect(not os.path.lexists(BINARY), f'{BINARY} still there')
    wait_until(lambda: run(['pkaction', '--action-id', POLICY_ACTION], check=False).returncode
               != 0, 10, f'pkaction to forget {POLICY_ACTION}')
    status = run(['dpkg-query', '-W', '-f', '${db:Status-Status}', 'banger-signal'],
                 check=False).stdout
    expect(status in ('', 'not-installed'), f'dpkg status {status!r}')
    group = run(['getent', 'group', GROUP], check=False).stdout.strip()
    return f'{len(host.package_files)} paths gone; group kept: {group or "no"}'


def _shared_dir(path: str) -> bool:
    """A directory that other packages (or other files) still use may stay."""
    if not os.path.isdir(path) or os.path.islink(path):
        return False
    return bool(os.listdir(path)) or run(['dpkg-query', '-S', path], check=False).returncode == 0


@scenario('install-after-purge', 'apt-get install after purge works again')
def install_after_purge(host: Host) -> str:
    run(['apt-get', 'install', '-y', host.deb])
    run(['pkaction', '--action-id', POLICY_ACTION])
    expect_exit(run_as(DAEMON, [BINARY, '--doctor']), 0)
    return 'policy back, doctor exits 0'


def outcome(fn, host: Host) -> tuple[str, str]:
    """(status, detail) of one scenario."""
    try:
        detail = fn(host)
    except Failure as e:
        return 'fail', str(e)
    except Exception as e:  # noqa: BLE001 - a crash is that scenario's failure
        say(traceback.format_exc())
        return 'fail', f'{type(e).__name__}: {e}'
    return 'pass', detail


def main() -> int:
    state = run(['systemctl', 'is-system-running', '--wait'], check=False).stdout.strip()
    say(f'system is {state}')
    if state != 'running':
        say(run(['systemctl', '--failed', '--no-pager'], check=False).stdout)
    host = Host()
    try:
        host.setup()
        broken = None
    except Exception as e:  # noqa: BLE001 - every scenario reports why it did not run
        broken = f'setup failed: {e}'
        say(traceback.format_exc())
    for name, _title, fn in SCENARIOS:
        started = time.monotonic()
        status, detail = ('fail', broken) if broken else outcome(fn, host)
        took = time.monotonic() - started
        say(f'{status} {name} ({took:.1f} s): {detail}')
        report({'name': name, 'status': status, 'detail': detail, 'seconds': round(took, 1)})
    report({'end': True})
    return 0


if __name__ == '__main__':
    sys.exit(main())
