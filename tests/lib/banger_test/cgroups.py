"""Where the cgroup hierarchies are mounted, and taking a test's cgroup tree down.

Cgroups are not covered by a mount namespace: every test tree is removed at the
end, also after failures, killing what is left in it (only our processes can be).
"""

from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass

MOUNTINFO = '/proc/self/mountinfo'


@dataclass(frozen=True)
class Mount:
    point: str                  # where it is mounted, unescaped
    root: str                   # which directory of the hierarchy shows there ("/": all of it)
    fstype: str                 # cgroup2 or cgroup
    options: tuple[str, ...]    # the super options (v1: the controllers, name=...)


def unescape_mountinfo(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as \\ooo (octal)."""
    out, i = [], 0
    while i < len(field):
        digits = field[i + 1:i + 4]
        if field[i] == '\\' and len(digits) == 3 and all(c in '01234567' for c in digits):
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return ''.join(out)


def cgroup_mounts(text: str | None = None) -> list[Mount]:
    """Every cgroup and cgroup2 mount of mountinfo `text` (default: ours), in order."""
    if text is None:
        with open(MOUNTINFO, encoding='utf-8', errors='replace') as f:
            text = f.read()
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        try:
            sep = fields.index('-')
        except ValueError:
            continue
        if len(fields) < sep + 4 or fields[sep + 1] not in ('cgroup', 'cgroup2'):
            continue
        mounts.append(Mount(point=unescape_mountinfo(fields[4]),
                            root=unescape_mountinfo(fields[3]), fstype=fields[sep + 1],
                            options=tuple(fields[sep + 3].split(','))))
    return mounts


def cgroup2_mount(mounts: list[Mount] | None = None) -> Mount | None:
    """The cgroup2 mount to create test cgroups in: the first one that shows the whole
    hierarchy (root "/"), else the first one at all."""
    v2 = [m for m in (cgroup_mounts() if mounts is None else mounts) if m.fstype == 'cgroup2']
    whole = [m for m in v2 if m.root == '/']
    return (whole or v2 or [None])[0]


def v1_systemd_mount(mounts: list[Mount] | None = None) -> Mount | None:
    """The v1 name=systemd hierarchy of a hybrid layout, if mounted whole."""
    for m in cgroup_mounts() if mounts is None else mounts:
        if m.fstype == 'cgroup' and 'name=systemd' in m.options and m.root == '/':
            return m
    return None


def populated(fs_dir: str) -> bool:
    """cgroup.events says processes are in this cgroup or below (v2 only)."""
    try:
        with open(os.path.join(fs_dir, 'cgroup.events'), encoding='ascii') as f:
            for line in f:
                key, value = line.split()
                if key == 'populated':
                    return value == '1'
    except OSError:
        return False
    return False


def read_procs(fs_dir: str) -> list[int]:
    """The pids in this one cgroup (its cgroup.procs), or none if it cannot be read."""
    try:
        with open(os.path.join(fs_dir, 'cgroup.procs'), encoding='ascii') as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _kill_members(fs_dir: str) -> None:
    """cgroup.kill where the kernel has it (v2, 5.14+), else SIGKILL each listed pid."""
    kill = os.path.join(fs_dir, 'cgroup.kill')
    if os.path.exists(kill):
        try:
            with open(kill, 'w', encoding='ascii') as f:
                f.write('1')
            return
        except OSError:
            pass
    for pid in read_procs(fs_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def remove_tree(fs_dir: str, attempts: int = 100) -> list[str]:
    """rmdir a test cgroup tree (v2 or v1), deepest first, killing what is still in it.

    Only test processes can be in a test tree, so killing them is ours to do. Returns
    the directories that could not be removed (the caller says so; nothing raises).
    """
    if not os.path.isdir(fs_dir):
        return []
    dirs = sorted((d for d, _, _ in os.walk(fs_dir)), key=lambda d: d.count('/'), reverse=True)
    left = []
    for d in dirs:
        for _ in range(attempts):
            try:
                os.rmdir(d)
                break
            except OSError as e:
                if e.errno == errno.ENOENT:
                    break
                if e.errno != errno.EBUSY:
                    left.append(f'{d}: {e.strerror}')
                    break
            _kill_members(d)
            time.sleep(0.05)
        else:
            left.append(f'{d}: still busy')
    return left
