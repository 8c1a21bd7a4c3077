#!/usr/bin/env python3
"""End-to-end: the caller's environment cannot steer GLib in a root call (issue 12, item 9).

A real-root caller that sets PKEXEC_UID (so the call stands for that user and polkit is
asked about an accepted VM) and DBUS_SYSTEM_BUS_ADDRESS pointing at a socket this test
listens on: the helper must never connect there, and its polkit check must still reach
polkitd on the (sandbox's) real system bus, which allows the member.

Run by `meson test` (suite e2e) as root in the sandbox of banger_test.sandbox; exits
77 (skipped) when the sandbox cannot run. Environment as for test_polkit.py.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import unittest

from banger_test import sandbox
from banger_test.codes import OK

SB: sandbox.Sandbox  # set in main() before the tests run


class RootEnvironment(unittest.TestCase):
    maxDiff = None

    def listen(self) -> tuple[socket.socket, str]:
        path = os.path.join('/tmp', f'e2e-caller-bus-{os.getpid()}.sock')   # the sandbox's /tmp
        if os.path.lexists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        os.chmod(path, 0o666)   # whoever the helper is by then, it could connect
        s.listen(16)
        s.setblocking(False)
        self.addCleanup(os.unlink, path)
        self.addCleanup(s.close)
        return s, path

    def test_dbus_system_bus_address_is_ignored(self):
        assert SB.member and SB.syslog
        listener, path = self.listen()
        vm = SB.spawn_vm()
        env = {'PATH': sandbox.USER_PATH, 'LANG': 'C.UTF-8',
               'PKEXEC_UID': str(SB.member.uid),
               'DBUS_SYSTEM_BUS_ADDRESS': f'unix:path={path}',
               'DBUS_SESSION_BUS_ADDRESS': f'unix:path={path}'}
        mark = SB.syslog.mark()
        p = subprocess.Popen([SB.installed_binary, '--pid', str(vm.pid), '--signal', 'TERM'],
                             env=env, cwd='/', stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # Accept (and hang up on) whatever connects while the call runs: a client
        # that reached us fails its handshake at once instead of hanging.
        seen = 0
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            seen += self._accept_all(listener)
            time.sleep(0.005)
        if p.poll() is None:
            p.kill()
        out, err = p.communicate(timeout=10)
        seen += self._accept_all(listener)
        SB.syslog.sync()
        log = [r.message for r in SB.syslog.since(mark, 'banger-signal')]
        what = f'exit {p.returncode}\nstdout: {out}\nstderr: {err}\nsyslog: ' + '\n  '.join(log)

        self.assertEqual(seen, 0, f'banger-signal connected {seen} time(s) to the bus the '
                                  f'caller named in DBUS_SYSTEM_BUS_ADDRESS ({path})\n{what}')
        # ...and asked polkitd on the real bus, about the member, which allows it.
        self.assertEqual(p.returncode, OK, what)
        self.assertTrue(vm.gone_within(5), what)
        line = [ln for ln in log if f' pid={vm.pid} ' in ln and 'outcome=delivered' in ln]
        self.assertEqual(len(line), 1, what)
        self.assertRegex(line[0], rf'\bcaller_uid={SB.member.uid}\b')
        self.assertRegex(line[0], r'\bpolkit=yes\b')

    @staticmethod
    def _accept_all(listener: socket.socket) -> int:
        n = 0
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                return n
            conn.close()
            n += 1


def main() -> int:
    return sandbox.run_unittests(globals())


if __name__ == '__main__':
    sys.exit(main())
