#!/usr/bin/env python3
"""A throwaway world for banger-signal's end-to-end tests, demo and benchmarks.

Real pkexec, a real polkitd and a real system bus, without touching the host:

  * the calling script re-executes itself inside a private mount namespace
    (`unshare --mount --propagation private`); every mount below is invisible outside it;
  * the project is installed with `meson install --destdir` into a tmpfs workspace, and every
    directory the install writes into (and /etc, /tmp) is replaced, inside the namespace only,
    by a tmpfs copy: the original entries bind-mounted in, the staged files added. The installed
    binary is therefore executed by exactly the path of its polkit exec.path annotation;
  * /etc/passwd, /etc/group and /etc/shadow are copies with test users appended;
  * /run/dbus is a fresh tmpfs; dbus-daemon --system and polkitd run on it;
  * a datagram socket of ours sits on /dev/log and a thread collects every syslog line;
  * stand-in Firecracker processes run in real cgroups under the cgroup2 mount (cgroups are
    not covered by the mount namespace: they are removed at the end, also on failure).

What is written to the host, and removed afterwards: one empty directory /tmp/banger-e2e-*
(the workspace mount point), one cgroup tree /banger-e2e-<pid>, and, only when the machine
has no /dev/log at all, an empty placeholder file there to mount the socket on.

Library use (the script must call enter_private_namespace() before anything else):

    import sandbox
    sandbox.enter_private_namespace()          # re-executes this script; returns inside
    with sandbox.Sandbox(builddir='build') as sb:
        vm = sb.spawn_vm()
        r = sb.run_as(sb.member, ['pkexec', sb.installed_binary, '--pid', str(vm.pid)])

CLI: python3 tests/e2e/sandbox.py --builddir build demo
     python3 tests/e2e/sandbox.py --builddir build shell [-- CMD ARG...]

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import unittest
import ctypes
import ctypes.util
import errno
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# Environment passed from the outer (host) process to the re-executed inner one.
ENV_INSIDE = 'BANGER_E2E_INSIDE'
ENV_WORKSPACE = 'BANGER_E2E_WORKSPACE'
ENV_CGROUP_NAME = 'BANGER_E2E_CGROUP_NAME'

POLKITD = '/usr/lib/polkit-1/polkitd'
PKEXEC = '/usr/bin/pkexec'
POLKIT_BUS_NAME = 'org.freedesktop.PolicyKit1'
POLKIT_ACTIONS = ('org.banger.signal.run', 'org.banger.signal.send', 'org.banger.signal.kill')
SERVICE_CGROUP_TAIL = 'system.slice/bangerd-root.service'
FOREIGN_CGROUP_TAIL = 'user.slice/user-4242.slice/session-1.scope'
USER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

SKIP = 77  # meson's "test skipped" exit code


class SandboxError(RuntimeError):
    """The sandbox could not be built; the message says which step failed."""


def _say(msg: str) -> None:
    print(f'sandbox: {msg}', file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# mount(2) through libc: hundreds of bind mounts, one syscall each instead of one process each.

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    rc = _libc.mount(source.encode() if source else None, target.encode(),
                     fstype.encode() if fstype else None, flags,
                     data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'mount({source!r}, {target!r}, {fstype!r}, {flags:#x}): '
                           f'{os.strerror(err)}')


def _bind(source: str, target: str) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)


# --------------------------------------------------------------------------------------------
# Host facts


def cgroup2_mount() -> tuple[str, str]:
    """(mount point, root inside the hierarchy) of the cgroup2 mount, from mountinfo."""
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            left, _, right = line.partition(' - ')
            fields = left.split()
            if right.split()[:1] == ['cgroup2']:
                # mountinfo escapes spaces etc. as octal; the mount points we care about have none.
                return fields[4], fields[3]
    raise SandboxError('no cgroup2 mount in /proc/self/mountinfo')


def preflight() -> str | None:
    """Why the sandbox cannot run here (the caller should skip), or None."""
    if os.geteuid() != 0:
        return 'needs root'
    try:
        with open('/proc/self/uid_map', encoding='ascii') as f:
            if f.read().split() != ['0', '0', '4294967295']:
                return 'needs real root: running in a user namespace (setuid pkexec cannot work)'
    except OSError:
        pass
    if shutil.which('unshare') is None:
        return 'unshare(1) not installed'
    probe = subprocess.run(['unshare', '--mount', '--propagation', 'private', 'true'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           check=False)
    if probe.returncode != 0:
        return f'cannot create a mount namespace: {probe.stderr.strip()}'
    return None


def missing_tools() -> list[str]:
    """Programs the sandbox needs; not a reason to skip: CI must have them."""
    need = [PKEXEC, POLKITD, 'dbus-daemon', 'dbus-send', 'setpriv', 'pkcheck', 'pkaction',
            'meson']
    return [p for p in need if (shutil.which(p) if '/' not in p else
                                (p if os.access(p, os.X_OK) else None)) is None]


# --------------------------------------------------------------------------------------------
# The outer process: re-exec inside a private mount namespace, clean the host afterwards.


def _mnt_ns(pid: int | str) -> str | None:
    try:
        return os.readlink(f'/proc/{pid}/ns/mnt')
    except OSError:
        return None


def _pids_in_mnt_ns(ns: str) -> list[int]:
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and int(entry) != os.getpid() and _mnt_ns(entry) == ns:
            found.append(int(entry))
    return found


def _remove_cgroup_tree(path: str) -> None:
    """Kill what is left in a test cgroup tree (only our processes can be there) and rmdir it."""
    if not os.path.isdir(path):
        return
    dirs = [root for root, _, _ in os.walk(path)]
    for d in sorted(dirs, key=len, reverse=True):   # deepest first
        for _ in range(100):
            try:
                os.rmdir(d)
                break
            except OSError as e:
                if e.errno == errno.ENOENT:
                    break
                if e.errno != errno.EBUSY:
                    raise
            try:
                with open(os.path.join(d, 'cgroup.procs'), encoding='ascii') as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                pids = []
            if os.path.exists(os.path.join(d, 'cgroup.kill')):
                with open(os.path.join(d, 'cgroup.kill'), 'w', encoding='ascii') as f:
                    f.write('1')
            else:
                for p in pids:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.05)
        else:
            _say(f'could not remove cgroup {d}')


def enter_private_namespace() -> None:
    """Re-execute the running script in a private mount namespace; return only there.

    The outer process waits, then removes what the namespace could not: leftover processes
    of the namespace (dbus-daemon forks into its own session), the cgroup tree, the workspace
    mount point and, if it created one, the /dev/log placeholder. It exits with the child's
    status. The inner process finds its parameters in the environment.
    """
    if os.environ.get(ENV_INSIDE) == '1':
        return
    workspace = tempfile.mkdtemp(prefix='banger-e2e-', dir='/tmp')
    os.chmod(workspace, 0o755)
    cgroup_name = f'banger-e2e-{os.getpid()}'
    placeholder = None
    if not os.path.lexists('/dev/log'):
        # Nothing to bind-mount our socket over: create an empty file, removed below.
        os.close(os.open('/dev/log', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        placeholder = '/dev/log'
    env = dict(os.environ)
    env.update({ENV_INSIDE: '1', ENV_WORKSPACE: workspace, ENV_CGROUP_NAME: cgroup_name})
    cmd = ['unshare', '--mount', '--propagation', 'private', '--',
           sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]]
    own_ns = _mnt_ns('self')
    child_ns = None
    child: subprocess.Popen | None = None

    def forward(signum, _frame):
        # meson signals the whole process group, an interactive user maybe only us: make
        # sure the inner process hears it; it tears the sandbox down (and ignores repeats).
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        child = subprocess.Popen(cmd, env=env)
        deadline = time.monotonic() + 5
        while child.poll() is None and time.monotonic() < deadline:
            ns = _mnt_ns(child.pid)
            if ns is not None and ns != own_ns:
                child_ns = ns
                break
            time.sleep(0.01)
        rc = child.wait()
    finally:
        if child_ns is not None:
            for pid in _pids_in_mnt_ns(child_ns):
                _say(f'killing leftover process {pid} of the sandbox')
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            mountpoint, _ = cgroup2_mount()
            _remove_cgroup_tree(os.path.join(mountpoint, cgroup_name))
        except (SandboxError, OSError) as e:
            _say(f'cgroup cleanup: {e}')
        if placeholder is not None:
            try:
                st = os.lstat(placeholder)
                if stat.S_ISREG(st.st_mode) and st.st_size == 0:
                    os.unlink(placeholder)
            except OSError as e:
                _say(f'could not remove the {placeholder} placeholder: {e}')
        shutil.rmtree(workspace, ignore_errors=True)
        for s, h in old.items():
            signal.signal(s, h)
    sys.exit(rc if rc >= 0 else 128 - rc)


# --------------------------------------------------------------------------------------------
# syslog capture


@dataclass
class LogRecord:
    raw: str
    facility: int | None = None
    severity: int | None = None
    ident: str = ''
    pid: int | None = None
    message: str = ''


_SYSLOG_RE = re.compile(
    r'^<(?P<pri>\d{1,3})>'
    r'(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d )?'
    r'(?P<ident>[^\[:\s]+)(?:\[(?P<pid>\d+)\])?: ?(?P<msg>.*)$', re.S)


def parse_syslog(datagram: bytes) -> LogRecord:
    raw = datagram.decode('utf-8', 'replace').rstrip('\n\0')
    m = _SYSLOG_RE.match(raw)
    if not m:
        return LogRecord(raw=raw, message=raw)
    pri = int(m['pri'])
    return LogRecord(raw=raw, facility=pri >> 3, severity=pri & 7, ident=m['ident'],
                     pid=int(m['pid']) if m['pid'] else None, message=m['msg'])


class SyslogCollector:
    """A datagram socket playing /dev/log, drained continuously by a thread.

    It must never stop reading: once the queue is full every syslog() sender blocks, pkexec
    included, and the test hangs.
    """

    _MARK = 'banger-e2e-syslog-mark'

    def __init__(self, path: str):
        self.path = path
        self.records: list[LogRecord] = []
        self._cond = threading.Condition()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(path)
        os.chmod(path, 0o666)   # every user's syslog() must be able to send
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._stop = os.pipe()
        self._thread = threading.Thread(target=self._run, name='syslog', daemon=True)
        self._thread.start()
        self._seq = 0

    def _run(self) -> None:
        while True:
            ready, _, _ = select.select([self._sock, self._stop[0]], [], [])
            if self._stop[0] in ready:
                return
            try:
                data = self._sock.recv(65536)
            except OSError:
                continue
            rec = parse_syslog(data)
            with self._cond:
                self.records.append(rec)
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.records)

    def sync(self, timeout: float = 5.0) -> None:
        """Return once every datagram sent before this call has been collected.

        A unix datagram queue keeps order: when our own marker comes out, all earlier lines
        (e.g. those of a process that has just exited) are in.
        """
        self._seq += 1
        token = f'{self._MARK} {os.getpid()} {self._seq}'
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(f'<15>{token}'.encode(), self.path)
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(r.raw.endswith(token) for r in self.records[-50:]):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError('syslog collector stopped reading')
                self._cond.wait(left)

    def since(self, mark: int, ident: str | None = None) -> list[LogRecord]:
        with self._cond:
            recs = [r for r in self.records[mark:] if self._MARK not in r.raw]
        return [r for r in recs if ident is None or r.ident == ident]

    def close(self) -> None:
        os.write(self._stop[1], b'x')
        self._thread.join(5)
        self._sock.close()
        for fd in self._stop:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# Users, processes, results


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    groups: tuple[str, ...] = ()


@dataclass
class Result:
    """What a command run as a test user did."""
    argv: list[str]
    user: User
    returncode: int
    stdout: str
    stderr: str
    log: list[LogRecord] = field(default_factory=list)  # every syslog line sent meanwhile

    def audit(self, ident: str = 'banger-signal') -> list[LogRecord]:
        return [r for r in self.log if r.ident == ident]

    def describe(self) -> str:
        lines = [f'$ {shlex.join(self.argv)}   # as {self.user.name} (uid {self.user.uid})',
                 f'  exit {self.returncode}']
        lines += [f'  stdout: {ln}' for ln in self.stdout.splitlines()]
        lines += [f'  stderr: {ln}' for ln in self.stderr.splitlines()]
        lines += [f'  syslog: {r.ident}[{r.pid}]: {r.message}' for r in self.log]
        return '\n'.join(lines)


class Target:
    """A process started by the sandbox in a cgroup of its choice (a stand-in VM, an impostor)."""

    def __init__(self, popen: subprocess.Popen, exe: str, cgroup: str):
        self.popen = popen
        self.pid = popen.pid
        self.exe = exe
        self.cgroup = cgroup

    def alive(self) -> bool:
        return self.popen.poll() is None

    def still_alive_after(self, grace: float = 0.3) -> bool:
        """True when the process is still running `grace` seconds from now.

        A signal is delivered synchronously but the process dies asynchronously: a short
        grace keeps "it was not signalled" from being a race we happen to win.
        """
        try:
            self.popen.wait(grace)
            return False
        except subprocess.TimeoutExpired:
            return True

    def gone_within(self, timeout: float = 5.0) -> bool:
        try:
            self.popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
        try:
            self.popen.wait(5)
        except subprocess.TimeoutExpired:
            _say(f'pid {self.pid} did not die')


# Between fork and exec: join the cgroup, then become the target with the argv[0] we choose.
# A separate interpreter, because preexec_fn is unsafe once threads run (syslog collector).
_SPAWN_HELPER = ('import os, sys\n'
                 'with open(sys.argv[1], "w") as f: f.write(str(os.getpid()))\n'
                 'os.execv(sys.argv[2], sys.argv[3:])\n')


# --------------------------------------------------------------------------------------------
# The sandbox


class Sandbox:
    """Build with `with Sandbox(...) as sb:`; everything is undone on exit, also on failure."""

    def __init__(self, builddir: str, sourcedir: str | None = None, standin: str | None = None,
                 impostor: str | None = None, rebuild: bool = False, verbose: bool = False):
        if os.environ.get(ENV_INSIDE) != '1':
            raise SandboxError('call enter_private_namespace() first')
        self.builddir = os.path.abspath(builddir)
        self.sourcedir = os.path.abspath(sourcedir) if sourcedir else None
        self.standin = os.path.abspath(
            standin or os.path.join(self.builddir, 'tests', 'standin', 'firecracker'))
        self.impostor = os.path.abspath(impostor) if impostor else None
        self.rebuild = rebuild
        self.verbose = verbose
        self.workspace = os.environ[ENV_WORKSPACE]
        self.cgroup_name = os.environ[ENV_CGROUP_NAME]
        self.stage = os.path.join(self.workspace, 'stage')
        self.runtime_dir = os.path.join(self.workspace, 'run', 'banger')
        self.overlaid: list[str] = []
        self.syslog: SyslogCollector | None = None
        self.dbus_pid: int | None = None
        self.polkitd: subprocess.Popen | None = None
        self.targets: list[Target] = []
        self._subjects: dict[str, subprocess.Popen] = {}
        self._files_written: list[str] = []
        mountpoint, root = cgroup2_mount()
        self.cgroup_fs = mountpoint
        # cgroup paths as processes see them in /proc/<pid>/cgroup (relative to the mount root)
        base = '/' + '/'.join(p for p in (root.strip('/'), self.cgroup_name) if p)
        self.cgroup_base = base
        self.service_cgroup = f'{base}/{SERVICE_CGROUP_TAIL}'
        self.foreign_cgroup = f'{base}/{FOREIGN_CGROUP_TAIL}'
        self.installed_binary = ''
        self.privileged_group = ''
        self.member: User | None = None
        self.other: User | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> 'Sandbox':
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _step(self, msg: str) -> None:
        if self.verbose:
            _say(msg)

    def start(self) -> None:
        _mount('none', '/', None, MS_REC | MS_PRIVATE)   # belt and braces over unshare's flag
        _mount('tmpfs', self.workspace, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=0755')
        self._read_build_options()
        self._step('making /tmp private')
        self._overlay(['/tmp'], staged_root=None)
        self._step('installing into the stage')
        self._install()
        self._stage_system_files()
        self._step('overlaying the install directories')
        self._overlay(self._overlay_roots(), staged_root=self.stage)
        os.makedirs(self.runtime_dir, mode=0o755, exist_ok=True)
        self._step('listening on /dev/log')
        self.syslog = SyslogCollector(os.path.join(self.workspace, 'dev-log'))
        _mount(self.syslog.path, '/dev/log', None, MS_BIND)
        self._make_cgroups()
        self._step('starting the system bus and polkitd')
        self._start_bus()
        self._start_polkitd()

    def stop(self) -> None:
        """Undo everything this process started; each step runs even if an earlier one fails."""
        steps = [self._stop_targets, self._stop_subjects, self._stop_polkitd, self._stop_bus,
                 self._remove_cgroups, self._close_syslog]
        # A second SIGTERM/SIGINT (meson signals the whole process group, the outer process
        # forwards too) must not cut the cleanup short.
        saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for step in steps:
                try:
                    step()
                except Exception as e:  # keep cleaning up
                    _say(f'cleanup step {step.__name__} failed: {e}')
        finally:
            for s, h in saved.items():
                signal.signal(s, h)

    # -- build, install, overlays ------------------------------------------------------------

    def _meson_introspect(self, what: str):
        out = subprocess.run(['meson', 'introspect', f'--{what}', self.builddir],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)

    def _read_build_options(self) -> None:
        if not os.path.isfile(os.path.join(self.builddir, 'meson-private', 'coredata.dat')):
            raise SandboxError(f'{self.builddir} is not a configured meson build directory')
        opts = {o['name']: o['value'] for o in self._meson_introspect('buildoptions')}
        self.privileged_group = str(opts.get('privileged_group', 'banger'))
        self.config_path = str(opts.get('config_path', '/etc/banger/install.toml'))
        self.installed_binary = os.path.join(opts['prefix'], opts['bindir'], 'banger-signal')

    def _install(self) -> None:
        cmd = ['meson', 'install', '-C', self.builddir, '--destdir', self.stage, '--quiet']
        if not self.rebuild:
            cmd.append('--no-rebuild')
        r = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if r.returncode != 0:
            raise SandboxError(f'meson install failed ({r.returncode}):\n{r.stdout}{r.stderr}')
        staged_bin = self.stage + self.installed_binary
        if not os.path.isfile(staged_bin):
            raise SandboxError(f'meson install did not produce {self.installed_binary}')

    def _stage_file(self, path: str, content: str, mode: int, uid: int = 0, gid: int = 0) -> None:
        dest = self.stage + path
        os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
        with open(dest, 'w', encoding='utf-8') as f:
            f.write(content)
        os.chown(dest, uid, gid)
        os.chmod(dest, mode)

    def _stage_system_files(self) -> None:
        """Test users, the privileged group and banger's install record, staged over /etc."""
        passwd = Path('/etc/passwd').read_text(encoding='utf-8')
        group = Path('/etc/group').read_text(encoding='utf-8')
        shadow = Path('/etc/shadow').read_text(encoding='utf-8')
        used_uids = {int(ln.split(':')[2]) for ln in passwd.splitlines() if ln.count(':') >= 6}
        used_gids = {int(ln.split(':')[2]) for ln in group.splitlines() if ln.count(':') >= 3}
        names = {ln.split(':')[0] for ln in passwd.splitlines()}
        for name in ('bsmember', 'bsother'):
            if name in names:
                raise SandboxError(f'user {name} already exists on this machine')

        def free_id(start: int) -> int:
            i = start
            while i in used_uids or i in used_gids:
                i += 1
            used_uids.add(i)
            used_gids.add(i)
            return i

        group_lines = group.rstrip('\n').split('\n')
        priv = self.privileged_group
        for i, ln in enumerate(group_lines):
            fields = ln.split(':')
            if fields[0] == priv and len(fields) == 4:
                members = [m for m in fields[3].split(',') if m] + ['bsmember']
                group_lines[i] = ':'.join(fields[:3] + [','.join(members)])
                break
        else:
            group_lines.append(f'{priv}:x:{free_id(64000)}:bsmember')
        users = []
        for name in ('bsmember', 'bsother'):
            uid = free_id(64010)
            users.append(User(name, uid, uid, (priv,) if name == 'bsmember' else ()))
            group_lines.append(f'{name}:x:{uid}:')
        passwd += ''.join(f'{u.name}:x:{u.uid}:{u.gid}:banger e2e test user:/nonexistent:'
                          f'/usr/sbin/nologin\n' for u in users)
        shadow += ''.join(f'{u.name}:!*:19000:0:99999:7:::\n' for u in users)
        self.member, self.other = users
        shadow_st = os.stat('/etc/shadow')
        self._stage_file('/etc/passwd', passwd, 0o644)
        self._stage_file('/etc/group', '\n'.join(group_lines) + '\n', 0o644)
        self._stage_file('/etc/shadow', shadow, stat.S_IMODE(shadow_st.st_mode),
                         shadow_st.st_uid, shadow_st.st_gid)
        self._stage_file(self.config_path,
                         f'# written by the banger-signal e2e sandbox\n'
                         f'runtime_dir = "{self.runtime_dir}"\n'
                         f'service_cgroup = "{self.service_cgroup}"\n', 0o644)
        # Directories the tests write into at run time: private copies too.
        os.makedirs(self.stage + '/etc/polkit-1/rules.d', exist_ok=True)

    def _overlay_roots(self) -> list[str]:
        """The highest existing host directories that must become private copies.

        For each staged leaf, its parent directory if the host has it, else the deepest
        existing ancestor (we cannot create a mount point on the host). Nested roots are
        dropped: the outer copy contains them.
        """
        leaves = []
        for dirpath, dirnames, filenames in os.walk(self.stage):
            here = '/' + os.path.relpath(dirpath, self.stage)
            here = os.path.normpath(here)
            if not dirnames and not filenames:
                leaves.append(here)                       # an empty staged dir: itself
            leaves += [here for _ in filenames[:1]]       # a staged file: its directory
        roots = set()
        for d in leaves:
            while not os.path.isdir(d) or os.path.islink(d):
                d = os.path.dirname(d)
            roots.add(d)
        return sorted(r for r in roots
                      if not any(r != o and r.startswith(o.rstrip('/') + '/') for o in roots))

    def _overlay(self, roots: list[str], staged_root: str | None) -> None:
        for root in roots:
            if root == '/':
                raise SandboxError('refusing to overlay /')
            build = tempfile.mkdtemp(prefix='overlay-', dir=self.workspace)
            st = os.stat(root)
            os.chown(build, st.st_uid, st.st_gid)
            os.chmod(build, stat.S_IMODE(st.st_mode))
            self._merge(build, root, staged_root + root if staged_root else None)
            _bind(build, root)
            self.overlaid.append(root)
            self._step(f'private copy of {root}')

    def _merge(self, dest: str, host: str | None, staged: str | None) -> None:
        """Fill the empty directory `dest`: host entries bind-mounted, staged entries copied.

        Bind mounts keep the host's inodes (setuid bits, owners, contents) without copying
        data; a staged entry replaces a host entry of the same name; directories present in
        both are merged recursively so that only what is staged differs.
        """
        host_names = set(os.listdir(host)) if host and os.path.isdir(host) else set()
        staged_names = set(os.listdir(staged)) if staged and os.path.isdir(staged) else set()
        for name in sorted(host_names | staged_names):
            d = os.path.join(dest, name)
            if name in staged_names:
                s = os.path.join(staged, name)
                h = os.path.join(host, name) if name in host_names else None
                sst = os.lstat(s)
                if stat.S_ISDIR(sst.st_mode):
                    use_host = h is not None and os.path.isdir(h) and not os.path.islink(h)
                    ref = os.stat(h) if use_host else sst
                    os.mkdir(d)
                    os.chown(d, ref.st_uid, ref.st_gid)
                    os.chmod(d, stat.S_IMODE(ref.st_mode))
                    self._merge(d, h if use_host else None, s)
                elif stat.S_ISLNK(sst.st_mode):
                    os.symlink(os.readlink(s), d)
                else:
                    shutil.copy2(s, d)
                    os.chown(d, sst.st_uid, sst.st_gid)
                continue
            h = os.path.join(host, name)
            hst = os.lstat(h)
            if stat.S_ISLNK(hst.st_mode):
                os.symlink(os.readlink(h), d)
                os.lchown(d, hst.st_uid, hst.st_gid)
            elif stat.S_ISDIR(hst.st_mode):
                os.mkdir(d)
                _bind(h, d)
            else:
                os.close(os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                _bind(h, d)

    # -- cgroups -----------------------------------------------------------------------------

    def cgroup_dir(self, cgroup: str) -> str:
        return self.cgroup_fs + cgroup

    def _make_cgroups(self) -> None:
        for cg in (self.service_cgroup, self.foreign_cgroup):
            os.makedirs(self.cgroup_dir(cg), exist_ok=True)

    def _remove_cgroups(self) -> None:
        _remove_cgroup_tree(self.cgroup_dir(self.cgroup_base))

    # -- bus and polkitd ---------------------------------------------------------------------

    def _start_bus(self) -> None:
        _mount('tmpfs', '/run/dbus', 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=0755')
        os.environ.pop('DBUS_SYSTEM_BUS_ADDRESS', None)
        r = subprocess.run(['dbus-daemon', '--system', '--fork', '--nopidfile', '--print-pid'],
                           capture_output=True, text=True, check=False, timeout=30)
        if r.returncode != 0 or not r.stdout.strip().isdigit():
            raise SandboxError(f'dbus-daemon failed ({r.returncode}): {r.stderr.strip()}')
        self.dbus_pid = int(r.stdout.strip())

    def _bus_has(self, name: str) -> bool:
        r = subprocess.run(['dbus-send', '--system', '--print-reply', '--reply-timeout=2000',
                            '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
                            'org.freedesktop.DBus.NameHasOwner', f'string:{name}'],
                           capture_output=True, text=True, check=False, timeout=10)
        return r.returncode == 0 and 'boolean true' in r.stdout

    def _start_polkitd(self) -> None:
        log = open(os.path.join(self.workspace, 'polkitd.log'), 'wb')  # noqa: SIM115
        self.polkitd = subprocess.Popen([POLKITD, '--no-debug'], stdin=subprocess.DEVNULL,
                                        stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while not self._bus_has(POLKIT_BUS_NAME):
            if self.polkitd.poll() is not None:
                raise SandboxError(f'polkitd exited with {self.polkitd.returncode}:\n'
                                   + self.polkitd_log())
            if time.monotonic() > deadline:
                raise SandboxError('polkitd did not appear on the bus within 30 s')
            time.sleep(0.05)
        for action in POLKIT_ACTIONS:
            if subprocess.run(['pkaction', '--action-id', action], capture_output=True,
                              check=False).returncode != 0:
                raise SandboxError(f'polkitd does not know {action}: is the policy installed '
                                   f'to /usr/share/polkit-1/actions?')

    def polkitd_log(self) -> str:
        try:
            return Path(self.workspace, 'polkitd.log').read_text(errors='replace')
        except OSError:
            return ''

    def _stop_polkitd(self) -> None:
        if self.polkitd is not None and self.polkitd.poll() is None:
            self.polkitd.terminate()
            try:
                self.polkitd.wait(5)
            except subprocess.TimeoutExpired:
                self.polkitd.kill()
                self.polkitd.wait(5)
        self.polkitd = None

    def _stop_bus(self) -> None:
        if self.dbus_pid is None:
            return
        pid, self.dbus_pid = self.dbus_pid, None
        # Not our child (it forked): signal it by pid, then wait for /proc/<pid> to go.
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not os.path.exists(f'/proc/{pid}') or _is_zombie(pid):
                    return
                time.sleep(0.02)

    def _close_syslog(self) -> None:
        if self.syslog is not None:
            self.syslog.close()
            self.syslog = None

    # -- processes ---------------------------------------------------------------------------

    def spawn(self, exe: str, args: list[str] | tuple = (), cgroup: str | None = None,
              argv0: str | None = None, env: dict[str, str] | None = None,
              ready_fd: bool = True, timeout: float = 10.0) -> Target:
        """Start `exe` (as root) inside `cgroup` (default: bangerd's service cgroup).

        With ready_fd the program gets STANDIN_READY_FD and must write "ready\\n" to it (the
        stand-in does, once its socket is bound); otherwise we wait until it has exec'd.
        """
        cgroup = cgroup or self.service_cgroup
        os.makedirs(self.cgroup_dir(cgroup), exist_ok=True)
        argv0 = argv0 or os.path.basename(exe)
        child_env = {'PATH': USER_PATH, 'LANG': 'C.UTF-8'}
        child_env.update(env or {})
        pass_fds: tuple[int, ...] = ()
        r = w = -1
        if ready_fd:
            r, w = os.pipe()
            child_env['STANDIN_READY_FD'] = str(w)
            pass_fds = (w,)
        popen = subprocess.Popen(
            [sys.executable, '-I', '-S', '-c', _SPAWN_HELPER,
             os.path.join(self.cgroup_dir(cgroup), 'cgroup.procs'), exe, argv0, *args],
            env=child_env, pass_fds=pass_fds, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd='/')
        target = Target(popen, exe, cgroup)
        self.targets.append(target)
        try:
            if ready_fd:
                os.close(w)
                got = b''
                deadline = time.monotonic() + timeout
                while not got.endswith(b'\n'):
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([r], [], [], left)[0]:
                        raise SandboxError(f'{exe} did not report ready within {timeout} s')
                    chunk = os.read(r, 64)
                    if not chunk:
                        raise SandboxError(f'{exe} exited before ready '
                                           f'(status {popen.poll()})')
                    got += chunk
                if got != b'ready\n':
                    raise SandboxError(f'{exe} wrote {got!r} instead of ready')
            else:
                real = os.path.realpath(exe)
                deadline = time.monotonic() + timeout
                while _exe_of(popen.pid) != real:
                    if popen.poll() is not None or time.monotonic() > deadline:
                        raise SandboxError(f'{exe} did not start')
                    time.sleep(0.01)
        finally:
            if ready_fd:
                os.close(r)
        seen = proc_cgroup(popen.pid)
        if seen != cgroup:
            raise SandboxError(f'pid {popen.pid} is in cgroup {seen!r}, expected {cgroup!r}')
        return target

    def spawn_vm(self, cgroup: str | None = None, api_sock: str | None = None,
                 exe: str | None = None, argv0: str | None = None,
                 env: dict[str, str] | None = None) -> Target:
        """A stand-in Firecracker VM, by default in bangerd's service cgroup.

        With api_sock it binds and listens on that socket (a name relative to the sandbox's
        runtime_dir, or an absolute path); without, it holds no socket (STANDIN_NO_BIND), so
        only its cgroup can identify it.
        """
        exe = exe or self.standin
        if not os.access(exe, os.X_OK):
            raise SandboxError(f'stand-in not found at {exe} (--standin / BANGER_E2E_STANDIN)')
        child_env = dict(env or {})
        args: list[str] = []
        if api_sock is None:
            child_env.setdefault('STANDIN_NO_BIND', '1')
        else:
            args = ['--api-sock', os.path.join(self.runtime_dir, api_sock)]
        return self.spawn(exe, args, cgroup=cgroup, argv0=argv0, env=child_env)

    def spawn_impostor(self, api_sock: str = 'impostor.sock') -> Target:
        """Not Firecracker, but says so in argv[0], and serves an api socket inside
        runtime_dir, from outside bangerd's cgroup: every claim but the exe is true."""
        if not self.impostor:
            raise SandboxError('no impostor binary (--impostor / BANGER_E2E_IMPOSTOR)')
        return self.spawn_vm(cgroup=self.foreign_cgroup, api_sock=api_sock, exe=self.impostor,
                             argv0='firecracker')

    def _stop_targets(self) -> None:
        for t in self.targets:
            t.stop()
        self.targets.clear()

    # -- acting as a test user ---------------------------------------------------------------

    def user_env(self, user: User) -> dict[str, str]:
        return {'PATH': USER_PATH, 'LANG': 'C.UTF-8', 'HOME': '/nonexistent',
                'USER': user.name, 'LOGNAME': user.name}

    def as_user_argv(self, user: User, argv: list[str]) -> list[str]:
        # setpriv execs: pkexec's parent is this harness, which polkit takes as the subject
        # (with the test user's uid, which pkexec passes along).
        return ['setpriv', f'--reuid={user.uid}', f'--regid={user.gid}', '--init-groups',
                '--', *argv]

    def run_as(self, user: User, argv: list[str], timeout: float = 60.0,
               stdin: str | None = None) -> Result:
        """Run argv as `user` without a terminal or agent; collect exit code, output, syslog."""
        assert self.syslog is not None
        mark = self.syslog.mark()
        p = subprocess.run(self.as_user_argv(user, argv), env=self.user_env(user), cwd='/',
                           input=stdin if stdin is not None else '', capture_output=True,
                           text=True, timeout=timeout, check=False)
        self.syslog.sync()
        return Result(argv, user, p.returncode, p.stdout, p.stderr, self.syslog.since(mark))

    def pkexec(self, user: User, args: list[str], binary: str | None = None) -> Result:
        return self.run_as(user, [PKEXEC, binary or self.installed_binary, *args])

    def signal_direct(self, user: User, args: list[str]) -> Result:
        """The unprivileged call that elevates itself."""
        return self.run_as(user, [self.installed_binary, *args])

    def _subject(self, user: User) -> subprocess.Popen:
        p = self._subjects.get(user.name)
        if p is None or p.poll() is not None:
            p = subprocess.Popen(self.as_user_argv(user, ['sleep', 'infinity']),
                                 env=self.user_env(user), cwd='/', stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + 5
            while _exe_of(p.pid) != os.path.realpath(shutil.which('sleep') or '/bin/sleep'):
                if time.monotonic() > deadline:
                    raise SandboxError('subject process did not start')
                time.sleep(0.01)
            self._subjects[user.name] = p
        return p

    def authorized(self, user: User, action: str, details: dict[str, str] | None = None) -> bool:
        """Ask polkitd directly (pkcheck, no interaction) whether `user` gets `action`."""
        subj = self._subject(user)
        argv = ['pkcheck', '--action-id', action, '--process', f'{subj.pid},0,{user.uid}']
        for k, v in (details or {}).items():
            argv += ['--detail', k, v]
        r = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=30)
        if r.returncode not in (0, 1, 2):
            raise SandboxError(f'pkcheck failed ({r.returncode}): {r.stderr.strip()}')
        return r.returncode == 0

    def wait_authorization(self, user: User, action: str, expected: bool,
                           details: dict[str, str] | None = None, timeout: float = 15) -> None:
        """Wait until polkitd's answer is `expected` (it reloads rules by itself, ~1 s)."""
        deadline = time.monotonic() + timeout
        while self.authorized(user, action, details) != expected:
            if time.monotonic() > deadline:
                raise SandboxError(f'polkitd still answers {not expected} for {action} '
                                   f'and {user.name} after {timeout} s')
            time.sleep(0.1)

    def _stop_subjects(self) -> None:
        for p in self._subjects.values():
            if p.poll() is None:
                p.kill()
            p.wait(5)
        self._subjects.clear()

    # -- files -------------------------------------------------------------------------------

    def write_file(self, path: str, content: str, mode: int = 0o644, uid: int = 0,
                   gid: int = 0) -> None:
        """Write a file inside the sandbox, only under a directory that is a private copy."""
        parent = os.path.dirname(os.path.abspath(path))
        if not any(parent == r or parent.startswith(r.rstrip('/') + '/')
                   for r in self.overlaid + [self.workspace]):
            raise SandboxError(f'{path} is not inside a private directory of the sandbox')
        tmp = f'{path}.tmp-e2e'
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(content)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.rename(tmp, path)

    def info(self) -> dict[str, str]:
        """What a command run with `shell` may want to know (also exported to its env)."""
        assert self.member and self.other
        return {
            'BANGER_E2E_BINARY': self.installed_binary,
            'BANGER_E2E_STANDIN': self.standin,
            'BANGER_E2E_IMPOSTOR': self.impostor or '',
            'BANGER_E2E_CGROUP_FS': self.cgroup_fs,
            'BANGER_E2E_SERVICE_CGROUP': self.service_cgroup,
            'BANGER_E2E_FOREIGN_CGROUP': self.foreign_cgroup,
            'BANGER_E2E_RUNTIME_DIR': self.runtime_dir,
            'BANGER_E2E_GROUP': self.privileged_group,
            'BANGER_E2E_MEMBER': self.member.name,
            'BANGER_E2E_MEMBER_UID': str(self.member.uid),
            'BANGER_E2E_OTHER': self.other.name,
            'BANGER_E2E_OTHER_UID': str(self.other.uid),
        }


def _exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f'/proc/{pid}/exe')
    except OSError:
        return None


def _is_zombie(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat', encoding='ascii', errors='replace') as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except (OSError, IndexError):
        return True


def proc_cgroup(pid: int) -> str | None:
    """The cgroup v2 path of a process (the 0:: line of /proc/<pid>/cgroup)."""
    try:
        with open(f'/proc/{pid}/cgroup', encoding='utf-8') as f:
            for line in f:
                if line.startswith('0::'):
                    return line[3:].rstrip('\n')
    except OSError:
        pass
    return None


# --------------------------------------------------------------------------------------------
# CLI


def _decision(r: Result) -> str:
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


def demo(sb: Sandbox) -> int:
    assert sb.member and sb.other
    print(f'sandbox ready: private system bus, polkitd, {sb.installed_binary} installed')
    print(f'  {sb.member.name} (uid {sb.member.uid}) is in group {sb.privileged_group}; '
          f'{sb.other.name} (uid {sb.other.uid}) is not')
    vm = sb.spawn_vm()
    print(f'  VM:       stand-in firecracker pid {vm.pid}, cgroup {vm.cgroup}')
    if sb.impostor and os.access(sb.impostor, os.X_OK):
        imp = sb.spawn_impostor()
        what = (f'exe {os.path.basename(sb.impostor)}, argv[0] "firecracker", serving '
                f'{sb.runtime_dir}/impostor.sock')
    else:
        imp = sb.spawn_vm(cgroup=sb.foreign_cgroup)
        what = 'a firecracker outside bangerd\'s cgroup, no api socket'
    print(f'  impostor: pid {imp.pid}, {what}, cgroup {imp.cgroup}')
    print()
    worst = 0
    calls = [(sb.member, imp, 'impostor'), (sb.other, vm, 'VM, caller not in the group'),
             (sb.member, vm, 'VM')]
    for user, target, label in calls:
        r = sb.run_as(user, ['pkexec', 'banger-signal', '--pid', str(target.pid),
                             '--signal', 'TERM', '--json'])
        dead = not target.still_alive_after(0.3)
        print(f'{sb.member.name if user is sb.member else sb.other.name}$ '
              f'pkexec banger-signal --pid {target.pid} --signal TERM --json   # {label}')
        print(f'  exit {r.returncode}: {_decision(r)}; target '
              f'{"terminated" if dead else "still running"}')
        for rec in r.audit():
            print(f'  audit: {rec.message}')
        if not r.audit():   # banger-signal never ran: say why, in pkexec's words
            for rec in r.audit('pkexec'):
                print(f'  pkexec: {rec.message}')
        print()
        worst = max(worst, 0 if (r.returncode == 0) == (label == 'VM') else 1)
    return worst


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
    sub.add_parser('demo', help='a group member signals a stand-in VM and an impostor')
    sh = sub.add_parser('shell', help='run CMD (default: an interactive shell) in the sandbox')
    sh.add_argument('command', nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)

    why = preflight()
    if why:
        _say(f'cannot run: {why}')
        return SKIP
    missing = missing_tools()
    if missing:
        _say('missing: ' + ', '.join(missing) + ' (apt-get install policykit-1 dbus '
             'util-linux meson)')
        return 1
    builddir = os.path.abspath(args.builddir)
    if args.impostor is None:
        guess = os.path.join(builddir, 'tests', 'standin', 'fc-impostor')
        args.impostor = guess if os.access(guess, os.X_OK) else None
    enter_private_namespace()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with Sandbox(builddir, standin=args.standin, impostor=args.impostor,
                 rebuild=not args.no_rebuild, verbose=args.verbose) as sb:
        if args.cmd == 'demo':
            return demo(sb)
        command = args.command[1:] if args.command[:1] == ['--'] else args.command
        if not command:
            command = [os.environ.get('SHELL', '/bin/sh'), '-i']
        env = dict(os.environ)
        for k in (ENV_INSIDE, ENV_WORKSPACE, ENV_CGROUP_NAME):
            env.pop(k, None)
        env.update(sb.info())
        return subprocess.run(command, env=env, check=False).returncode


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt



def run_unittests(test_module_globals: dict) -> int:
    """main() of an e2e test file: skip (77) where the sandbox cannot run, enter
    the private namespace, build one Sandbox, publish it as the module's SB,
    and run the module's unittest cases against it."""
    why = preflight()
    if why:
        print(f'SKIP: {why}', file=sys.stderr)
        return SKIP
    missing = missing_tools()
    if missing:
        print('FAIL: missing ' + ', '.join(missing), file=sys.stderr)
        return 1
    builddir = os.environ.get('BANGER_E2E_BUILDDIR')
    if not builddir:
        print('FAIL: BANGER_E2E_BUILDDIR is not set (run through meson test)', file=sys.stderr)
        return 1
    enter_private_namespace()          # re-executes the test file; continues inside
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with Sandbox(builddir, sourcedir=os.environ.get('BANGER_E2E_SOURCEDIR'),
                 standin=os.environ.get('BANGER_E2E_STANDIN'),
                 impostor=os.environ.get('BANGER_E2E_IMPOSTOR'),
                 verbose=True) as sb:
        test_module_globals['SB'] = sb
        prog = unittest.main(module=test_module_globals['__name__'], argv=[sys.argv[0], *sys.argv[1:]], exit=False)
    return 0 if prog.result.wasSuccessful() else 1

if __name__ == '__main__':
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        _say('interrupted; sandbox removed')
        sys.exit(130)
