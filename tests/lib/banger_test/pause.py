"""Pause points of banger-signal-testhooks (meson -Dtest_hooks=true, never installed).

With BANGER_TEST_PAUSE=POINT:BASE the binary writes "paused POINT\\n" into the FIFO
BASE.paused when it reaches POINT, then blocks until a line can be read from BASE.resume
(src/sys/test_hooks.hpp): a test acts between two steps of the recipe (kills and reuses
a pid, reads the binary's /proc status). Python 3 standard library only.
"""

from __future__ import annotations

import os
import select
import time

PAUSE_TIMEOUT = 10.0


class Pause:
    """One pause point of banger-signal-testhooks.

    Both FIFOs are opened O_RDWR (Linux: never blocks, and we count as reader
    and writer), so the binary's blocking open()s return at once and we can
    time out instead of hanging when it never gets there.
    """

    def __init__(self, directory, point, mode=0o600):
        """`mode` 0o666 for a binary that does not run as root (the socket door's
        instance): it must open both FIFOs itself."""
        self.point = point
        self.base = os.path.join(directory, f"pause-{point}")
        os.mkfifo(self.base + ".paused", 0o600)
        os.mkfifo(self.base + ".resume", 0o600)
        for end in (".paused", ".resume"):
            os.chmod(self.base + end, mode)
        self._paused = os.open(self.base + ".paused", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        self._resume = os.open(self.base + ".resume", os.O_RDWR | os.O_CLOEXEC)
        self.env = {"BANGER_TEST_PAUSE": f"{point}:{self.base}"}

    def wait(self, proc=None, timeout=PAUSE_TIMEOUT):
        """Block until the binary says it paused; raise if it never does."""
        deadline = time.monotonic() + timeout
        data = b""
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or (proc is not None and proc.poll() is not None):
                rc = None if proc is None else proc.poll()
                raise AssertionError(f"banger-signal never paused at {self.point!r} "
                                     f"(read {data!r}, rc {rc})")
            ready, _, _ = select.select([self._paused], [], [], min(left, 0.1))
            if ready:
                data += os.read(self._paused, 64)
        if data != f"paused {self.point}\n".encode():
            raise AssertionError(f"unexpected pause message {data!r}")

    def resume(self):
        os.write(self._resume, b"\n")

    def close(self):
        for fd in (self._paused, self._resume):
            try:
                os.close(fd)
            except OSError:
                pass
