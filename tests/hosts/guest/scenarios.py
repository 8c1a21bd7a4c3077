#!/usr/bin/env python3
"""The scenarios of tests/hosts, run as root inside a booted Debian host (systemd as PID 1).

banger-signal is installed from its .deb; this script plays the admin (creates the users,
starts bangerd-root.service and a legacy VM), and runs every call the way a real bangerd
would: as user `bangerd` in a system service of its own (no password, no tty, no session,
no authentication agent). Each result goes to /dev/ttyS1 as one line

    BANGER-HOSTS {"name": ..., "status": "pass" | "fail" | "xfail" | "xpass", "detail": ...}

and the host (tests/hosts/run.py) prints them. The host imports this file for SCENARIOS
only, so nothing runs at import.

Python 3 standard library only.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import subprocess
import sys
import time
import traceback

# The helper does not refuse the service's own main process yet (exit 6, "the service's own
# process", and absent from --list): another change adds that. Until then the scenario must
# fail and is reported as xfail; should it pass, the run fails until this is set to True.
EXPECT_MAINPID_PROTECTED = True

# The unprivileged half of self-elevation logs pkexec's refusal itself, under the helper's
# name and with the caller's uid as sender ("outcome=not-authorized code=7
# elevation=pkexec pkexec_exit=127"): a line that any caller could have written. Until the
# helper leaves that to pkexec's own log (or root's), the scenario must fail (xfail).
EXPECT_NO_CALLER_LINES = True

# Who may have sent the helper's journal lines: root, or the dedicated user the helper will
# switch to while working (created by its sysusers.d entry). Never the caller.
HELPER_USERS = ('root', 'banger-signal')

BINARY = '/usr/bin/banger-signal'
PKEXEC = '/usr/bin/pkexec'
LIB = '/usr/local/lib/banger-hosts'
STANDIN = f'{LIB}/firecracker'
STATE = '/run/banger-hosts'
RUNTIME_DIR = '/run/banger'
SERVICE = 'bangerd-root.service'
SERVICE_CGROUP = f'/system.slice/{SERVICE}'
LEGACY_UNIT = 'banger-legacy-vm.service'
LEGACY_SOCK = f'{RUNTIME_DIR}/legacy-vm.sock'
IMPOSTOR_SCOPE = 'bangerd-impostor.scope'
GROUP = 'banger'
DAEMON = 'bangerd'          # bangerd's user, a member of GROUP
OUTSIDER = 'mallory'        # an ordinary user, not in GROUP
RESULTS = '/dev/ttyS1'
POLICY_ACTION = 'org.banger.signal.run'
CALL_TIMEOUT = 90


class Failure(Exception):
    """A scenario's expectation did not hold; the message says what was seen."""


class KnownFailure(Failure):
    """The very failure a scenario marked expected_failure is expected to show."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


def expect_fixed(condition: bool, message: str) -> None:
    """Like expect, for the behaviour that an expected_failure scenario waits for."""
    if not condition:
        raise KnownFailure(message)


# ------------------------------------------------------------------------------ processes


def run(argv: list[str], *, timeout: float = CALL_TIMEOUT, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command as root; with check, a non-zero exit is a Failure."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)
    if check and proc.returncode != 0:
        raise Failure(f'{" ".join(argv)}: exit {proc.returncode}: {proc.stderr.strip()}')
    return proc


def run_as(user: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Runs argv as `user` in a transient system service, as a daemon would.

    A service gives what bangerd.service would have: no tty, no login session, no agent,
    the user's groups from /etc/group and systemd's environment for the user. The command
    runs under a shell that waits for it, because pkexec refuses to serve a process whose
    parent is pid 1 (a real daemon is pkexec's parent).
    """
    return run(['systemd-run', '--quiet', '--wait', '--pipe', '--collect',
                '--service-type=exec', '-p', f'User={user}', '--',
                '/bin/sh', '-c', '"$@"; exit', 'sh', *argv], check=False)


def state_of(pid: int) -> str | None:
    """The state letter of /proc/PID/stat, or None when there is no such process."""
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii', errors='replace') as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(')') + 2]


def alive(pid: int) -> bool:
    return state_of(pid) not in (None, 'Z', 'X')


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise Failure(f'timed out after {timeout:g} s waiting for {what}')
        time.sleep(0.1)


def expect_gone(pid: int, what: str) -> None:
    wait_until(lambda: not alive(pid), 10, f'{what} (pid {pid}) to exit')


def cgroup_of(pid: int) -> str:
    with open(f'/proc/{pid}/cgroup', encoding='utf-8') as f:
        for line in f:
            if line.startswith('0::'):
                return line[3:].rstrip('\n')
    raise Failure(f'pid {pid} has no cgroup v2 line')


def exe_of(pid: int) -> str:
    return os.readlink(f'/proc/{pid}/exe')


def uid(user: str) -> int:
    return pwd.getpwnam(user).pw_uid


def call_summary(proc: subprocess.CompletedProcess[str]) -> str:
    text = (proc.stdout + proc.stderr).strip().replace('\n', ' | ')
    return f'exit {proc.returncode}: {text[:300]}' if text else f'exit {proc.returncode}'


def expect_exit(proc: subprocess.CompletedProcess[str], code: int) -> None:
    expect(proc.returncode == code, f'wanted exit {code}, got {call_summary(proc)}')


def json_lines(text: str) -> list[dict]:
    try:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as e:
        raise Failure(f'not JSON lines ({e}): {text[:300]!r}') from None


# ------------------------------------------------------------------------------ the world


class Host:
    """What the admin set up, and every decision the helper was asked for (for the audit)."""

    def __init__(self) -> None:
        self.vms: dict[str, int] = {}   # the processes banger-signal must accept
        self.mainpid = 0
        self.impostor = 0
        self.user_service = 0
        self.listed: dict[int, dict] | None = None
        self.decisions: list[tuple[int, str, int]] = []  # (caller uid, pid or "list", exit)
        self.deb = sorted(glob.glob(f'{LIB}/banger-signal_*.deb'))[-1]
        self.package_files: list[str] = []

    def call(self, user: str, argv: list[str],
             target: int | str) -> subprocess.CompletedProcess[str]:
        """A call that reaches the helper, recorded for the audit scenario."""
        proc = run_as(user, argv)
        self.decisions.append((uid(user), str(target), proc.returncode))
        return proc

    def setup(self) -> None:
        # The admin's part of README's Install: bangerd's user (as its package would make it,
        # with sysusers.d: no password, nologin) joins the group the package created.
        os.makedirs('/etc/sysusers.d', exist_ok=True)
        with open('/etc/sysusers.d/bangerd.conf', 'w', encoding='ascii') as f:
            f.write(f'u {DAEMON} - "banger daemon" /\n')
        run(['systemd-sysusers', 'bangerd.conf'])
        with open('/etc/shadow', encoding='utf-8') as f:
            password = next(line.split(':')[1] for line in f if line.startswith(f'{DAEMON}:'))
        expect(password[:1] in ('!', '*'), f'{DAEMON} can log in with a password')
        run(['usermod', '-aG', GROUP, DAEMON])
        run(['useradd', '--create-home', '--shell', '/bin/bash', OUTSIDER])

        run(['systemctl', 'start', SERVICE])
        self.mainpid = int(run(['systemctl', 'show', '-P', 'MainPID', SERVICE]).stdout)
        for name in ('vm-a', 'vm-b', 'vm-d', 'vm-e'):
            wait_until(lambda n=name: _read(f'{STATE}/{n}.ready') == 'ready\n', 30,
                       f'{name} to be ready')
            self.vms[name] = int(_read(f'{STATE}/{name}.pid'))
        expect(cgroup_of(self.vms['vm-b']) == f'{SERVICE_CGROUP}/vm-b',
               f'vm-b is in {cgroup_of(self.vms["vm-b"])}')

        # A legacy VM: outside the unit, known by its api socket in the runtime dir.
        run(['systemd-run', '--quiet', f'--unit={LEGACY_UNIT}', '--service-type=exec',
             '-p', f'StandardOutput=file:{STATE}/legacy-vm.ready', '--',
             STANDIN, '--api-sock', LEGACY_SOCK])
        wait_until(lambda: _read(f'{STATE}/legacy-vm.ready') == 'ready\n', 30,
                   'the legacy VM to listen')
        self.vms['legacy-vm'] = int(run(['systemctl', 'show', '-P', 'MainPID',
                                         LEGACY_UNIT]).stdout)

        # An impostor that bangerd starts in a transient scope of its own: exe firecracker,
        # claiming the legacy VM's socket while it listens on one of its own.
        impostor = subprocess.Popen(
            ['systemd-run', '--scope', '--quiet', f'--unit={IMPOSTOR_SCOPE}',
             f'--uid={DAEMON}', f'--gid={DAEMON}', '--',
             '/usr/bin/env', 'STANDIN_BIND_PATH=/tmp/bangerd-impostor.sock', STANDIN,
             '--api-sock', LEGACY_SOCK],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)
        expect(impostor.stdout is not None and impostor.stdout.readline() == 'ready\n',
               'the impostor did not start')
        self.impostor = impostor.pid
        expect(cgroup_of(self.impostor) == f'/system.slice/{IMPOSTOR_SCOPE}',
               f'impostor in {cgroup_of(self.impostor)}')

        # The outsider's own systemd (user@UID.service) runs a unit named like the service.
        outsider = uid(OUTSIDER)
        run(['systemctl', 'start', f'user@{outsider}.service'])
        run(['runuser', '-u', OUTSIDER, '--', 'env', f'XDG_RUNTIME_DIR=/run/user/{outsider}',
             'systemd-run', '--user', '--quiet', f'--unit={SERVICE}', '--service-type=exec',
             '--', STANDIN])
        pattern = (f'/sys/fs/cgroup/user.slice/user-{outsider}.slice/user@{outsider}.service'
                   f'/**/{SERVICE}')
        wait_until(lambda: any(_read(f'{d}/cgroup.procs').strip()
                               for d in glob.glob(pattern, recursive=True)), 30,
                   f'{SERVICE} of {OUTSIDER}\'s systemd')
        cgroup_dir = glob.glob(pattern, recursive=True)[0]
        self.user_service = int(_read(f'{cgroup_dir}/cgroup.procs').split()[0])
        wait_until(lambda: exe_of(self.user_service) == STANDIN, 10, 'the user service to exec')

        with open('/proc/sys/kernel/osrelease', encoding='ascii') as f:
            kernel = f.read().strip()
        facts = {'kernel': kernel,
                 'systemd': run(['systemctl', '--version']).stdout.split()[1],
                 'polkit': _package_version('polkitd'),
                 'banger-signal': _package_version('banger-signal')}
        _say(f'facts: {json.dumps(facts)}')
        report({'facts': facts})
        self.package_files = run(['dpkg-query', '-L', 'banger-signal']).stdout.split('\n')


def _read(path: str) -> str:
    try:
        with open(path, encoding='utf-8', errors='replace') as f:
            return f.read()
    except OSError:
        return ''


def _package_version(package: str) -> str:
    return run(['dpkg-query', '-W', '-f', '${Version}', package], check=False).stdout


# ------------------------------------------------------------------------------ scenarios

SCENARIOS: list[tuple[str, str, object]] = []


def scenario(name: str, title: str, *, expected_failure: str | None = None):
    """Registers a scenario. expected_failure names the switch that is off while the
    scenario must fail with KnownFailure (strict: a pass, or any other failure, fails)."""
    def register(fn):
        fn.expected_failure = expected_failure
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


@scenario('mainpid', "refused (6): the service's own MainPID, and absent from --list",
          expected_failure=None if EXPECT_MAINPID_PROTECTED else 'EXPECT_MAINPID_PROTECTED')
def mainpid(host: Host) -> str:
    # Last of the calls: while the helper accepts the MainPID, this stops the service.
    listing = host.call(DAEMON, [BINARY, '--list', '--json'], 'list')
    expect_exit(listing, 0)
    in_list = any(e['pid'] == host.mainpid for e in json_lines(listing.stdout))
    proc = host.call(DAEMON, [PKEXEC, BINARY, '--pid', str(host.mainpid)], host.mainpid)
    seen = f'{call_summary(proc)}; {"in" if in_list else "not in"} --list'
    expect(proc.returncode in (0, 6), seen)   # anything else is not the known failure
    expect_fixed(proc.returncode == 6 and not in_list, seen)
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


@scenario('audit-no-caller-lines', "no line under the helper's name is sent by a caller",
          expected_failure=None if EXPECT_NO_CALLER_LINES else 'EXPECT_NO_CALLER_LINES')
def audit_no_caller_lines(host: Host) -> str:
    allowed = helper_uids()
    callers = {str(uid(DAEMON)), str(uid(OUTSIDER))}
    entries = helper_journal()
    strangers = [f'uid {e.get("_UID")}: {e.get("MESSAGE")}' for e, _ in entries
                 if e.get('_UID') not in allowed]
    expect(all(e.get('_UID') in allowed | callers for e, _ in entries),
           f'lines from unexpected senders: {" | ".join(strangers)[:600]}')
    expect_fixed(not strangers, f'sent by a caller: {" | ".join(strangers)[:600]}')
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


# ------------------------------------------------------------------------------ runner


def _say(message: str) -> None:
    print(f'banger-hosts: {message}', flush=True)


_results = None


def report(record: dict) -> None:
    global _results
    if _results is None:
        _results = open(RESULTS, 'w', encoding='utf-8', buffering=1)
    _results.write(f'BANGER-HOSTS {json.dumps(record)}\n')


def outcome(fn, host: Host) -> tuple[str, str]:
    """(status, detail) of one scenario. An expected_failure scenario is strict: only its
    KnownFailure is an xfail; a pass is an xpass and any other failure a fail."""
    try:
        detail = fn(host)
    except KnownFailure as e:
        return ('xfail' if fn.expected_failure else 'fail'), str(e)
    except Failure as e:
        return 'fail', str(e)
    except Exception as e:  # noqa: BLE001 - a crash is that scenario's failure
        _say(traceback.format_exc())
        return 'fail', f'{type(e).__name__}: {e}'
    if fn.expected_failure:
        return 'xpass', (f'passed although expected to fail: set {fn.expected_failure} = True '
                         f'({detail})')
    return 'pass', detail


def main() -> int:
    state = run(['systemctl', 'is-system-running', '--wait'], check=False).stdout.strip()
    _say(f'system is {state}')
    if state != 'running':
        _say(run(['systemctl', '--failed', '--no-pager'], check=False).stdout)
    host = Host()
    try:
        host.setup()
        broken = None
    except Exception as e:  # noqa: BLE001 - every scenario reports why it did not run
        broken = f'setup failed: {e}'
        _say(traceback.format_exc())
    for name, _title, fn in SCENARIOS:
        started = time.monotonic()
        status, detail = ('fail', broken) if broken else outcome(fn, host)
        took = time.monotonic() - started
        _say(f'{status} {name} ({took:.1f} s): {detail}')
        report({'name': name, 'status': status, 'detail': detail, 'seconds': round(took, 1)})
    report({'end': True})
    return 0


if __name__ == '__main__':
    sys.exit(main())
