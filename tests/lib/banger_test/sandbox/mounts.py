"""mount(2) through libc, and the private copies of host directories.

Hundreds of bind mounts: one syscall each instead of one mount(8) process each.
Every mount happens inside the private mount namespace (namespace.py): none of
them is visible on the host.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import stat
import tempfile

from .base import SandboxError

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    rc = _libc.mount(source.encode() if source else None, target.encode(),
                     fstype.encode() if fstype else None, flags,
                     data.encode() if data else None)
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'mount({source!r}, {target!r}, {fstype!r}, {flags:#x}): '
                           f'{os.strerror(err)}')


def umount(target: str) -> None:
    if _libc.umount2(target.encode(), 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'umount({target!r}): {os.strerror(err)}')


def bind(source: str, target: str) -> None:
    mount(source, target, None, MS_BIND | MS_REC)


def tmpfs(target: str) -> None:
    mount('tmpfs', target, 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=0755')


def overlay_roots(stage: str) -> list[str]:
    """The highest existing host directories that must become private copies.

    For each staged leaf, its parent directory if the host has it, else the deepest
    existing ancestor (we cannot create a mount point on the host). Nested roots are
    dropped: the outer copy contains them.
    """
    leaves = []
    for dirpath, dirnames, filenames in os.walk(stage):
        here = '/' + os.path.relpath(dirpath, stage)
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


def private_copy(root: str, workspace: str, staged_root: str | None,
                 leave_out: tuple[str, ...] = ()) -> None:
    """Replace `root`, in this namespace, by a copy on the workspace tmpfs: the host's
    entries bind-mounted in (but those named in leave_out), the entries staged below
    staged_root + root added."""
    if root == '/':
        raise SandboxError('refusing to overlay /')
    build = tempfile.mkdtemp(prefix='overlay-', dir=workspace)
    st = os.stat(root)
    os.chown(build, st.st_uid, st.st_gid)
    os.chmod(build, stat.S_IMODE(st.st_mode))
    _merge(build, root, staged_root + root if staged_root else None, set(leave_out))
    bind(build, root)


def _merge(dest: str, host: str | None, staged: str | None,
           leave_out: set[str] | None = None) -> None:
    """Fill the empty directory `dest`: host entries bind-mounted, staged entries copied.

    Bind mounts keep the host's inodes (setuid bits, owners, contents) without copying
    data; a staged entry replaces a host entry of the same name; directories present in
    both are merged recursively so that only what is staged differs.
    """
    host_names = set(os.listdir(host)) if host and os.path.isdir(host) else set()
    host_names -= leave_out or set()
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
                _merge(d, h if use_host else None, s)
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
            bind(h, d)
        else:
            os.close(os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            bind(h, d)
