"""Starting a test process in the cgroups of our choice, and knowing when it is ready.

The stand-in Firecracker (tests/standin) and the adversarial victims write "ready\\n"
to the fd named by STANDIN_READY_FD once they are set up (socket bound, signals
blocked): with ready=True, spawn() returns only then. The process joins its cgroups
between fork and exec, so it never runs a line of its own code anywhere else.
"""

from __future__ import annotations

import os
import resource
import select
import subprocess
import sys
import time

READY_FD_ENV = 'STANDIN_READY_FD'
READY_TIMEOUT = 10.0


class SpawnError(RuntimeError):
    """The process could not be started, or never said it was ready."""


# Between fork and exec when the caller runs threads (preexec_fn is unsafe then): a fresh
# interpreter joins the cgroups, turns core files off, marks the exec pipe close-on-exec
# and execs the target with the argv[0] we chose. EOF on that pipe means the exec is done.
_JOIN_AND_EXEC = '''\
import os, resource, sys
exec_fd, procs_files, file, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
for procs in filter(None, procs_files.split("\\0")):
    with open(procs, "w") as f:
        f.write(str(os.getpid()))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
os.set_inheritable(exec_fd, False)
try:
    os.execvp(file, argv)
except OSError as e:
    os.write(exec_fd, f"exec {file}: {e.strerror}".encode())
    os._exit(127)
'''


def _join_and_limit(procs_files: tuple[str, ...]):
    def preexec() -> None:
        for procs in procs_files:
            with open(procs, 'w') as f:
                f.write(str(os.getpid()))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))   # QUIT/ABRT: no core files
    return preexec


def spawn(argv: list[str], *, join: tuple[str, ...] | list[str] = (), env: dict[str, str],
          executable: str | None = None, ready: bool = True, threads: bool = False,
          timeout: float = READY_TIMEOUT, cwd: str = '/', stdout=subprocess.DEVNULL,
          stderr=None) -> subprocess.Popen:
    """Start argv (argv[0] as given; `executable`, if given, is the program run) after
    writing its pid into each cgroup.procs file of `join`, without core files.

    With `ready`, wait until it writes "ready\\n" to STANDIN_READY_FD. With `threads`
    (the caller runs threads), the joining is done by a helper interpreter that then
    execs the target. A process that fails to start or to get ready is killed and
    reaped before SpawnError is raised.
    """
    env = dict(env)
    join = tuple(join)
    read_fd = write_fd = exec_r = exec_w = -1
    pass_fds: list[int] = []
    if ready:
        read_fd, write_fd = os.pipe()
        env[READY_FD_ENV] = str(write_fd)
        pass_fds.append(write_fd)
    try:
        if threads:
            exec_r, exec_w = os.pipe()
            pass_fds.append(exec_w)
            cmd = [sys.executable, '-I', '-S', '-c', _JOIN_AND_EXEC, str(exec_w), '\0'.join(join),
                   executable or argv[0], *argv]
            p = subprocess.Popen(cmd, env=env, cwd=cwd, pass_fds=pass_fds,
                                 stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
        else:
            p = subprocess.Popen(argv, executable=executable, env=env, cwd=cwd,
                                 preexec_fn=_join_and_limit(join), pass_fds=pass_fds,
                                 stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)
    except BaseException:
        for fd in (read_fd, exec_r):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        for fd in (write_fd, exec_w):
            if fd >= 0:
                os.close(fd)
    try:
        if exec_r >= 0:
            failure = _read_all(exec_r, time.monotonic() + timeout)
            if failure:
                raise SpawnError(f'{argv!r}: {failure.decode(errors="replace")}')
        if ready:
            got = _read_line(read_fd, p, time.monotonic() + timeout)
            if got != b'ready\n':
                raise SpawnError(f'{argv!r} did not get ready (read {got!r}, '
                                 f'rc {p.poll()})')
    except BaseException:
        if p.poll() is None:
            p.kill()
        p.wait()
        raise
    finally:
        for fd in (read_fd, exec_r):
            if fd >= 0:
                os.close(fd)
    return p


def _read_all(fd: int, deadline: float) -> bytes:
    """Everything until EOF (the helper's exec closed the pipe, or it died)."""
    data = b''
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise SpawnError('the spawn helper neither exec\'d nor failed in time')
        chunk = os.read(fd, 4096)
        if not chunk:
            return data
        data += chunk


def _read_line(fd: int, p: subprocess.Popen, deadline: float) -> bytes:
    """Up to the first newline, EOF (the process exited) or the deadline."""
    got = b''
    while not got.endswith(b'\n'):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 64)
        if not chunk:
            break
        got += chunk
    return got
