"""The world of tests/hosts' guest: what the admin sets up (Host), how a call is run as a
daemon would run it, and how results reach the host (report). scenarios.py holds the
scenarios themselves.

Python 3 standard library only.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import subprocess
import sys
import time

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
SOCKET = '/run/banger-signal/io.banger.Signal'
SOCKET_UNIT = 'banger-signal.socket'
HELPER = 'banger-signal'
# Where systemd runs each instance of banger-signal@.service.
DOOR_SLICE = '/system.slice/system-banger\\x2dsignal.slice'
# How systemd.exec(5) hardens a daemon, the way bangerd's unit would be: each of these
# sets no_new_privs, so pkexec cannot elevate it. Delegate=yes: its cgroup is its own to
# freeze and kill.
HARDENED = ['NoNewPrivileges=yes', 'SystemCallFilter=@system-service', 'Delegate=yes']
# The test's polkit rules: one logs (tag banger-hosts-polkit) what polkitd knows of every banger-signal question's
# subject (subject.system_unit only exists for pidfd subjects, polkit 124+), one lets
# bangerd manage units (the bench's systemctl kill, and its VM units).
TEST_RULES = '''// tests/hosts: what polkitd knows of the subject of banger-signal's questions.
polkit.addRule(function(action, subject) {
    if (action.id.indexOf("org.banger.signal.") == 0) {
        // polkit.log() is lost: polkitd runs with --no-debug.
        polkit.spawn(["/usr/bin/logger", "-t", "banger-hosts-polkit",
                      "action=" + action.id + " pid=" + subject.pid + " system_unit=" +
                      subject.system_unit + " door=" + action.lookup("door")]);
    }
});
polkit.addRule(function(action, subject) {
    if (action.id == "org.freedesktop.systemd1.manage-units" && subject.user == "%s") {
        return polkit.Result.YES;
    }
});
'''


class Failure(Exception):
    """A scenario's expectation did not hold; the message says what was seen."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise Failure(message)


# ------------------------------------------------------------------------------ processes


def run(argv: list[str], *, timeout: float = CALL_TIMEOUT, check: bool = True,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command as root; with check, a non-zero exit is a Failure."""
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout, check=False, env=env)
    if check and proc.returncode != 0:
        raise Failure(f'{" ".join(argv)}: exit {proc.returncode}: {proc.stderr.strip()}')
    return proc


def service_argv(user: str, argv: list[str], properties: list[str] = (),
                 unit: str | None = None) -> list[str]:
    """systemd-run running argv as `user` in a transient system service, as a daemon would.

    A service gives what bangerd.service would have: no tty, no login session, no agent,
    the user's groups from /etc/group and systemd's environment for the user. The command
    runs under a shell that waits for it, because pkexec refuses to serve a process whose
    parent is pid 1 (a real daemon is pkexec's parent).
    """
    props = [a for p in [f'User={user}', *properties] for a in ('-p', p)]
    named = [f'--unit={unit}'] if unit else []
    return ['systemd-run', '--quiet', '--wait', '--pipe', '--collect', '--service-type=exec',
            *named, *props, '--', '/bin/sh', '-c', '"$@"; exit', 'sh', *argv]


def run_as(user: str, argv: list[str], properties: list[str] = (),
           timeout: float = CALL_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """Runs argv as `user` in a transient system service (service_argv)."""
    return run(service_argv(user, argv, properties), check=False, timeout=timeout)


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


# ------------------------------------------------------------------------------ reporting


def say(message: str) -> None:
    print(f'banger-hosts: {message}', flush=True)


_results = None


def report(record: dict) -> None:
    global _results
    if _results is None:
        _results = open(RESULTS, 'w', encoding='utf-8', buffering=1)
    _results.write(f'BANGER-HOSTS {json.dumps(record)}\n')


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

    def call(self, user: str, argv: list[str], target: int | str,
             properties: list[str] = ()) -> subprocess.CompletedProcess[str]:
        """A call that reaches the helper, recorded for the audit scenario."""
        proc = run_as(user, argv, properties)
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
        os.makedirs('/etc/polkit-1/rules.d', exist_ok=True)
        with open('/etc/polkit-1/rules.d/00-banger-hosts.rules', 'w', encoding='ascii') as f:
            f.write(TEST_RULES % DAEMON)

        run(['systemctl', 'start', SERVICE])
        self.mainpid = int(run(['systemctl', 'show', '-P', 'MainPID', SERVICE]).stdout)
        for name in ('vm-a', 'vm-b', 'vm-d', 'vm-e', 'vm-f', 'vm-g', 'vm-h'):
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
        say(f'facts: {json.dumps(facts)}')
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
