"""Capturing syslog: a datagram socket of ours plays /dev/log inside the sandbox."""

from __future__ import annotations

import os
import re
import select
import socket
import threading
import time
from dataclasses import dataclass

from .base import SandboxError


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
        # Raw datagrams, parsed only when asked for: the thread that drains the socket does
        # as little as it can, so that it is not what a sender waits for (a call with 4096
        # targets sends 4096 lines, a full queue blocks syslog(), and bench/run's row 6
        # timed this thread's regex instead of the call).
        self._raw: list[bytes] = []
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
            batch = []
            while True:   # everything queued, then one wake-up for the waiters
                try:
                    batch.append(self._sock.recv(65536, socket.MSG_DONTWAIT))
                except OSError:
                    break
            with self._cond:
                self._raw.extend(batch)
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self._raw)

    def sync(self, timeout: float = 5.0) -> None:
        """Return once every datagram sent before this call has been collected.

        A unix datagram queue keeps order: when our own marker comes out, all earlier lines
        (e.g. those of a process that has just exited) are in.
        """
        self._seq += 1
        token = f'{self._MARK} {os.getpid()} {self._seq}'.encode()
        with self._cond:
            start = len(self._raw)   # the marker comes after this, however many follow it
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b'<15>' + token, self.path)
        deadline = time.monotonic() + timeout
        with self._cond:
            while not any(d.rstrip(b'\n\0').endswith(token) for d in self._raw[start:]):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SandboxError('syslog collector stopped reading')
                self._cond.wait(left)

    def since(self, mark: int, ident: str | None = None) -> list[LogRecord]:
        with self._cond:
            raw = self._raw[mark:]
        recs = [parse_syslog(d) for d in raw if self._MARK.encode() not in d]
        return [r for r in recs if ident is None or r.ident == ident]

    def close(self) -> None:
        os.write(self._stop[1], b'x')
        self._thread.join(5)
        self._sock.close()
        for fd in self._stop:
            os.close(fd)
