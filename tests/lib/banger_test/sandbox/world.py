"""The Sandbox: the parts put together, started in order and undone in reverse."""

from __future__ import annotations

import os
import signal

from .. import cgroups
from . import acting, install, mounts
from .acting import Result
from .base import (DOOR_CGROUP_TAIL, ENV_CGROUP_NAME, ENV_INSIDE, ENV_WORKSPACE, FOREIGN_CGROUP_TAIL,
                   PKEXEC, SERVICE_CGROUP_TAIL, SandboxError, say)
from .install import User
from .polkit import Polkit
from .socket_door import SocketDoor
from .syslog import SyslogCollector
from .targets import Target, Targets


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
        self.polkit = Polkit(self.workspace)
        mount = cgroups.cgroup2_mount()
        if mount is None:
            raise SandboxError('no cgroup2 mount in /proc/self/mountinfo')
        self._mount = mount
        self.cgroup_fs = mount.point
        # cgroup paths as processes see them in /proc/<pid>/cgroup (relative to the mount root)
        base = '/' + '/'.join(p for p in (mount.root.strip('/'), self.cgroup_name) if p)
        self.cgroup_base = base
        self.service_cgroup = f'{base}/{SERVICE_CGROUP_TAIL}'
        self.foreign_cgroup = f'{base}/{FOREIGN_CGROUP_TAIL}'
        self.door_cgroup = f'{base}/{DOOR_CGROUP_TAIL}'
        self._targets = Targets(self.cgroup_dir, self.service_cgroup)
        self.door: SocketDoor | None = None
        self.installed_binary = ''
        self.privileged_group = ''
        self.helper_user = ''
        self.config_path = ''
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
            say(msg)

    def start(self) -> None:
        mounts.mount('none', '/', None, mounts.MS_REC | mounts.MS_PRIVATE)   # belt and braces
        mounts.tmpfs(self.workspace)
        opts = install.read_build_options(self.builddir)
        self.privileged_group = opts.privileged_group
        self.helper_user = opts.helper_user
        self.config_path = opts.config_path
        self.installed_binary = opts.installed_binary
        self.door = SocketDoor(opts.socket_path, self.door_cgroup, self.cgroup_dir(self.door_cgroup),
                               os.path.join(self.workspace, 'socket-door.log'))
        # /run: the socket door's socket lives there, and the bus's (replaced below).
        self._step('making /tmp and /run private')
        self._overlay(['/tmp', '/run'], staged_root=None)
        self._step('installing into the stage')
        install.install(self.builddir, self.stage, self.installed_binary, self.rebuild)
        self.member, self.other = install.stage_system_files(
            self.stage, opts, self.runtime_dir, self.service_cgroup)
        self._step('overlaying the install directories')
        self._overlay(mounts.overlay_roots(self.stage), staged_root=self.stage)
        os.makedirs(self.runtime_dir, mode=0o755, exist_ok=True)
        # Our socket is /dev/log on a private copy of /dev: a socket bound over the
        # host's /dev/log would vanish with it whenever another sandbox removes the
        # placeholder it created there (the kernel detaches mounts on unlinked files).
        self._step('listening on /dev/log, in a private copy of /dev')
        mounts.private_copy('/dev', self.workspace, None, leave_out=('log',))
        self.syslog = SyslogCollector('/dev/log')
        for cg in (self.service_cgroup, self.foreign_cgroup):
            os.makedirs(self.cgroup_dir(cg), exist_ok=True)
        self._step('starting the system bus and polkitd')
        self.polkit.start()

    def stop(self) -> None:
        """Undo everything this process started; each step runs even if an earlier one fails."""
        steps = [self._stop_door, self._targets.stop_all, self.polkit.stop_subjects,
                 self.polkit.stop_polkitd, self.polkit.stop_bus, self._remove_cgroups, self._close_syslog]
        # A second SIGTERM/SIGINT (meson signals the whole process group, the outer process
        # forwards too) must not cut the cleanup short.
        saved = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            for step in steps:
                try:
                    step()
                except Exception as e:  # keep cleaning up
                    say(f'cleanup step {step.__name__} failed: {e}')
        finally:
            for s, h in saved.items():
                signal.signal(s, h)

    def _overlay(self, roots: list[str], staged_root: str | None) -> None:
        for root in roots:
            mounts.private_copy(root, self.workspace, staged_root)
            self.overlaid.append(root)
            self._step(f'private copy of {root}')

    def _stop_door(self) -> None:
        if self.door is not None:
            self.door.stop()

    def _remove_cgroups(self) -> None:
        for problem in cgroups.remove_tree(self.cgroup_dir(self.cgroup_base)):
            say(f'could not remove cgroup {problem}')

    def _close_syslog(self) -> None:
        if self.syslog is not None:
            self.syslog.close()
            self.syslog = None

    # -- cgroups and targets -----------------------------------------------------------------

    def cgroup_dir(self, cgroup: str) -> str:
        """The directory of `cgroup` (a path as /proc/<pid>/cgroup shows it) in the mount."""
        root = self._mount.root.rstrip('/')
        return self.cgroup_fs + cgroup[len(root):]

    @property
    def targets(self) -> list[Target]:
        """Every target started and not yet stopped (stopped with the sandbox)."""
        return self._targets.started

    def spawn(self, exe: str, args: list[str] | tuple = (), cgroup: str | None = None,
              argv0: str | None = None, env: dict[str, str] | None = None,
              ready_fd: bool = True, timeout: float = 10.0) -> Target:
        return self._targets.spawn(exe, args, cgroup, argv0, env, ready_fd, timeout)

    def stop_targets(self) -> None:
        """Stop every target started so far (a test that acts on every VM starts from none)."""
        self._targets.stop_all()

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

    # -- acting as a test user, asking polkitd -------------------------------------------------

    user_env = staticmethod(acting.user_env)
    as_user_argv = staticmethod(acting.as_user_argv)

    def run_as(self, user: User, argv: list[str], timeout: float = 60.0,
               stdin: str | None = None) -> Result:
        """Run argv as `user` without a terminal or agent; collect exit code, output, syslog."""
        assert self.syslog is not None
        return acting.run_as(self.syslog, user, argv, timeout, stdin)

    def pkexec(self, user: User, args: list[str], binary: str | None = None) -> Result:
        return self.run_as(user, [PKEXEC, binary or self.installed_binary, *args])

    def signal_direct(self, user: User, args: list[str]) -> Result:
        """The unprivileged call that elevates itself (through the socket door when it runs)."""
        return self.run_as(user, [self.installed_binary, *args])

    # -- the socket door -------------------------------------------------------------------

    def start_door(self, binary: str | None = None, env: dict[str, str] | None = None,
                   caps: str | None = None) -> SocketDoor:
        """The socket door, listening until stop_door() or the sandbox's end; every instance
        runs `binary` (default: the installed one) with `env` added (and only `caps`, when
        given: '' for none)."""
        assert self.door is not None
        if caps is None:
            self.door.start(binary or self.installed_binary, self.helper_user, env)
        else:
            self.door.start(binary or self.installed_binary, self.helper_user, env, caps)
        return self.door

    def stop_door(self) -> None:
        self._stop_door()

    def through_socket(self, user: User, args: list[str], timeout: float = 60.0) -> Result:
        """An unprivileged call that must go through the socket door (--door socket)."""
        return self.run_as(user, [self.installed_binary, '--door', 'socket', *args], timeout)

    def through_pkexec(self, user: User, args: list[str], timeout: float = 60.0) -> Result:
        """An unprivileged call that must go through pkexec (--door pkexec)."""
        return self.run_as(user, [self.installed_binary, '--door', 'pkexec', *args], timeout)

    def authorized(self, user: User, action: str, details: dict[str, str] | None = None) -> bool:
        return self.polkit.authorized(user, action, details)

    def wait_authorization(self, user: User, action: str, expected: bool,
                           details: dict[str, str] | None = None, timeout: float = 15) -> None:
        self.polkit.wait_authorization(user, action, expected, details, timeout)

    def polkitd_log(self) -> str:
        return self.polkit.log()

    # -- files -------------------------------------------------------------------------------

    def is_private(self, path: str) -> bool:
        """`path` is in a directory that is a private copy of the sandbox (or its workspace)."""
        parent = os.path.dirname(os.path.abspath(path))
        return any(parent == r or parent.startswith(r.rstrip('/') + '/')
                   for r in self.overlaid + [self.workspace])

    def write_file(self, path: str, content: str, mode: int = 0o644, uid: int = 0,
                   gid: int = 0) -> None:
        """Write a file inside the sandbox, only under a directory that is a private copy."""
        if not self.is_private(path):
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
            'BANGER_E2E_SOCKET': self.door.path if self.door else '',
        }

