"""Facts about a process from /proc, as the tests need them (never as the binary does)."""

from __future__ import annotations

import os


def pid_exists(pid: int) -> bool:
    return os.path.exists(f'/proc/{pid}')


def proc_cgroup(pid: int, hierarchy: str = '0') -> str | None:
    """The path of /proc/<pid>/cgroup for "0" (the v2 line) or a v1 controller or name
    ("name=systemd"); None when there is no such line. An unreadable file raises OSError
    (a cgroup path longer than the kernel shows fails the read on older kernels)."""
    with open(f'/proc/{pid}/cgroup', encoding='utf-8', errors='replace') as f:
        for line in f:
            hid, controllers, path = line.rstrip('\n').split(':', 2)
            if hierarchy == '0' and hid == '0' and controllers == '':
                return path
            if hierarchy != '0' and hierarchy in controllers.split(','):
                return path
    return None


def cgroup_or_none(pid: int) -> str | None:
    """The v2 cgroup of `pid`, or None when it is gone or unreadable."""
    try:
        return proc_cgroup(pid)
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after "(comm)", from the state on; None once gone."""
    try:
        with open(f'/proc/{pid}/stat', encoding='utf-8', errors='replace') as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(')') + 2:].split()


def proc_state(pid: int) -> str | None:
    """The state letter of /proc/<pid>/stat (R, S, Z, T, ...); None once the pid is gone."""
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def gone_or_zombie(pid: int) -> bool:
    """The process has exited: reaped already, a zombie waiting for its parent, or dead."""
    return proc_state(pid) in (None, 'Z', 'X')


def start_time(pid: int) -> int:
    """Field 22 of /proc/<pid>/stat (clock ticks after boot)."""
    fields = _stat_fields(pid)
    if fields is None:
        raise FileNotFoundError(f'/proc/{pid}/stat')
    return int(fields[19])   # fields after the ")" of comm start at field 3


def exe_of(pid: int) -> str | None:
    try:
        return os.readlink(f'/proc/{pid}/exe')
    except OSError:
        return None


def argument_pages_present(pid: int) -> list[bool]:
    """For each page wholly inside the argument strings of `pid` (/proc/<pid>/stat fields
    48 and 49), whether it is present in memory (bit 63 of its /proc/<pid>/pagemap entry;
    reading pagemap faults nothing in). Needs root."""
    fields = _stat_fields(pid)
    if fields is None:
        raise FileNotFoundError(f'/proc/{pid}/stat')
    start, end = int(fields[45]), int(fields[46])
    page = os.sysconf('SC_PAGESIZE')
    first = (start + page - 1) // page
    present = []
    with open(f'/proc/{pid}/pagemap', 'rb') as f:
        for number in range(first, end // page):
            f.seek(number * 8)
            present.append(bool(int.from_bytes(f.read(8), 'little') >> 63))
    return present
