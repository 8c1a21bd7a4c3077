"""A FUSE file system that never answers, for the judging deadline's tests.

Served straight over /dev/fuse (no libfuse): its root holds one file, `args` (1 MiB,
read-only), whose reads are never answered; a lookup of any other name is never
answered either. A process that maps `args` over its argument pages makes them a file's
that no read of which ever ends; a path below the mount point (an api socket claimed
there) makes every lookup of it wait for good. The kernel may not let even SIGKILL end
such a wait (a FUSE request its server took and never answers): only the end of the
server (StallFs.abort()) does, by aborting the connection.

    with StallFs('/run/banger/stall') as fs:
        ...
        fs.wait_for('lookup vm.sock')      # the stall began
        fs.abort()                         # every waiting request fails; the mount goes

As a program (what StallFs runs, as root): python3 stallfs.py MOUNTPOINT
prints "mounted", then one line per request it leaves unanswered ("lookup NAME",
"read", "interrupt").
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import struct
import subprocess
import sys
import threading
import time

FILE_SIZE = 1 << 20
ROOT, ARGS = 1, 2

# Opcodes (linux/fuse.h) this server knows.
LOOKUP, FORGET, GETATTR, OPEN, READ, RELEASE, FLUSH, INIT, OPENDIR, RELEASEDIR = \
    1, 2, 3, 14, 15, 18, 25, 26, 27, 29
INTERRUPT, DESTROY, BATCH_FORGET = 36, 38, 42
NO_REPLY = {FORGET, INTERRUPT, BATCH_FORGET}

IN_HEADER = struct.Struct('<IIQQIIIHH')     # len opcode unique nodeid uid gid pid extlen pad
OUT_HEADER = struct.Struct('<IiQ')          # len error unique


def _attr(ino: int, mode: int, size: int) -> bytes:
    # struct fuse_attr: ino size blocks atime mtime ctime, their nsecs, mode nlink uid gid
    # rdev blksize flags
    return struct.pack('<QQQQQQIIIIIIIIII', ino, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0,
                       mode, 1, 0, 0, 0, 4096, 0)


def _attr_of(nodeid: int) -> bytes:
    if nodeid == ROOT:
        return _attr(ROOT, stat.S_IFDIR | 0o755, 0)
    return _attr(ARGS, stat.S_IFREG | 0o444, FILE_SIZE)


def serve(mountpoint: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC)
    options = f'fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other'.encode()
    ms_nosuid, ms_nodev = 2, 4
    if libc.mount(b'banger-stall', mountpoint.encode(), b'fuse.banger-stall',
                  ms_nosuid | ms_nodev, options) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f'mount {mountpoint}: {os.strerror(err)}')
    print('mounted', flush=True)
    while True:
        try:
            request = os.read(fd, FILE_SIZE + 4096)
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ENOENT, errno.EAGAIN):
                continue
            if e.errno == errno.ENODEV:   # unmounted
                return
            raise
        length, opcode, unique, nodeid, *_ = IN_HEADER.unpack_from(request)
        body = request[IN_HEADER.size:length]

        def reply(data: bytes = b'', err: int = 0) -> None:
            try:
                os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(data), -err, unique) + data)
            except OSError as e:          # the request was interrupted meanwhile
                if e.errno != errno.ENOENT:
                    raise

        if opcode == INIT:
            # fuse_init_out of protocol 7.31: major minor max_readahead flags
            # max_background congestion_threshold max_write time_gran max_pages
            # map_alignment flags2, unused[7]
            reply(struct.pack('<IIIIHHIIHHI', 7, 31, 0, 0, 16, 16, 65536, 1, 32, 0, 0) + bytes(28))
        elif opcode == LOOKUP:
            name = body.split(b'\0', 1)[0].decode(errors='replace')
            if nodeid == ROOT and name == 'args':
                # fuse_entry_out: nodeid generation entry_valid attr_valid and their nsecs
                reply(struct.pack('<QQQQII', ARGS, 0, 60, 60, 0, 0) + _attr_of(ARGS))
            else:
                print(f'lookup {name}', flush=True)          # never answered
        elif opcode == GETATTR:
            reply(struct.pack('<QII', 60, 0, 0) + _attr_of(nodeid))  # fuse_attr_out
        elif opcode in (OPEN, OPENDIR):
            reply(struct.pack('<QII', 0, 0, 0))                      # fuse_open_out
        elif opcode == READ:
            print('read', flush=True)                               # never answered
        elif opcode in (RELEASE, FLUSH, RELEASEDIR):
            reply()
        elif opcode == INTERRUPT:
            print('interrupt', flush=True)
        elif opcode == DESTROY:
            return
        elif opcode not in NO_REPLY:
            reply(err=errno.ENOSYS)


class StallFs:
    """The file system above, mounted at `mountpoint` (created) by a process of its own."""

    def __init__(self, mountpoint: str):
        self.mountpoint = mountpoint
        self.args = os.path.join(mountpoint, 'args')
        self.events: list[str] = []
        self._lock = threading.Condition()
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> 'StallFs':
        os.makedirs(self.mountpoint, exist_ok=True)
        self._proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), self.mountpoint],
                                      stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        threading.Thread(target=self._read_events, daemon=True).start()
        if not self.wait_for('mounted', 10):
            self.abort()
            raise RuntimeError(f'stallfs did not mount at {self.mountpoint}')
        return self

    def __exit__(self, *exc) -> None:
        self.abort()

    def _read_events(self) -> None:
        assert self._proc and self._proc.stdout
        for line in self._proc.stdout:
            with self._lock:
                self.events.append(line.strip())
                self._lock.notify_all()

    def wait_for(self, event: str, timeout: float) -> bool:
        """True once the server has printed `event` (within `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while event not in self.events:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def abort(self) -> None:
        """End the server: every request left waiting fails, and the mount goes."""
        if self._proc:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(10)
            if self._proc.stdout:
                self._proc.stdout.close()
        subprocess.run(['umount', '-l', self.mountpoint], stderr=subprocess.DEVNULL, check=False)


if __name__ == '__main__':
    serve(sys.argv[1])
