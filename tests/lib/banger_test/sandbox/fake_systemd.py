"""A fake systemd for the e2e sandbox, which has none: /run/systemd/system (how sd_booted()
tells that systemd is init) and org.freedesktop.systemd1 on the sandbox's private system bus.

It answers what banger-signal asks about the service's own processes, and nothing more:

  * org.freedesktop.systemd1.Manager.GetUnit(s) -> o: the unit's object path for `unit`,
    org.freedesktop.systemd1.NoSuchUnit for any other unit;
  * org.freedesktop.DBus.Properties.Get("org.freedesktop.systemd1.Service",
    "MainPID" | "ControlPID") on that path -> v(u): main_pid, control_pid (0: none).

Every call is recorded in `calls`, answered or not. Standard library only: the D-Bus wire
protocol for these few types (s, o, g, u, v) is written out below. It runs as root, which
systemd's own bus policy (org.freedesktop.systemd1.conf) lets own the name. Both parts exist
only in the sandbox's private mount namespace (a tmpfs on /run/systemd) and on its bus.
"""

from __future__ import annotations

import binascii
import os
import socket
import struct
import threading
import time

from . import mounts
from .base import SandboxError
from .polkit import bus_has

BUS_SOCKET = '/run/dbus/system_bus_socket'
NAME = 'org.freedesktop.systemd1'
MANAGER_PATH = '/org/freedesktop/systemd1'
MANAGER = 'org.freedesktop.systemd1.Manager'
PROPERTIES = 'org.freedesktop.DBus.Properties'
SERVICE = 'org.freedesktop.systemd1.Service'
RUN_SYSTEMD = '/run/systemd'
POLICY = f'/usr/share/dbus-1/system.d/{NAME}.conf'   # systemd's package has it
CALL, RETURN, ERROR = 1, 2, 3
NO_REPLY_EXPECTED = 0x1
# header field codes and their types
PATH, INTERFACE, MEMBER, ERROR_NAME, REPLY_SERIAL, DESTINATION, SENDER, SIGNATURE = range(1, 9)
_FIELD_TYPE = {PATH: 'o', INTERFACE: 's', MEMBER: 's', ERROR_NAME: 's', REPLY_SERIAL: 'u',
               DESTINATION: 's', SENDER: 's', SIGNATURE: 'g', 9: 'u'}


def unit_object_path(unit: str) -> str:
    """systemd's bus path of a unit: every byte but [A-Za-z0-9] as _xx."""
    return MANAGER_PATH + '/unit/' + ''.join(
        c if c.isascii() and c.isalnum() else f'_{ord(c):02x}' for c in unit)


# -- the wire format (little-endian out; either endianness in) -----------------------------

class _Out:
    def __init__(self) -> None:
        self.buf = bytearray()

    def pad(self, n: int) -> None:
        self.buf += b'\0' * (-len(self.buf) % n)

    def value(self, t: str, v) -> None:
        if t in 'so':
            data = v.encode()
            self.pad(4)
            self.buf += struct.pack('<I', len(data)) + data + b'\0'
        elif t == 'g':
            self.buf += bytes([len(v)]) + v.encode() + b'\0'
        elif t == 'u':
            self.pad(4)
            self.buf += struct.pack('<I', v)
        elif t == 'v':                       # v = (signature of one complete type, value)
            self.value('g', v[0])
            self.value(v[0], v[1])
        else:
            raise ValueError(f'cannot write D-Bus type {t!r}')


class _In:
    def __init__(self, data: bytes, endian: str, pos: int = 0) -> None:
        self.data, self.e, self.pos = data, endian, pos

    def value(self, t: str):
        if t in 'sou':
            self.pos += -self.pos % 4
            (n,) = struct.unpack_from(self.e + 'I', self.data, self.pos)
            self.pos += 4
            if t == 'u':
                return n
            s = self.data[self.pos:self.pos + n].decode()
            self.pos += n + 1
            return s
        if t == 'g':
            n = self.data[self.pos]
            s = self.data[self.pos + 1:self.pos + 1 + n].decode()
            self.pos += n + 2
            return s
        if t == 'v':
            return self.value(self.value('g'))
        raise ValueError(f'cannot read D-Bus type {t!r}')


def _message(kind: int, serial: int, fields: dict[int, str | int], sig: str = '',
             args: tuple = ()) -> bytes:
    body = _Out()
    for t, v in zip(sig, args):
        body.value(t, v)
    if sig:
        fields = {**fields, SIGNATURE: sig}
    out = _Out()
    out.buf += struct.pack('<BBBBIII', ord('l'), kind, 0, 1, len(body.buf), serial, 0)
    for code, v in fields.items():
        out.pad(8)
        out.buf.append(code)
        out.value('v', (_FIELD_TYPE[code], v))
    struct.pack_into('<I', out.buf, 12, len(out.buf) - 16)
    out.pad(8)
    return bytes(out.buf + body.buf)


class _Connection:
    """One authenticated connection to the system bus, messages in and out."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(BUS_SOCKET)
        uid = binascii.hexlify(str(os.getuid()).encode())
        self.sock.sendall(b'\0AUTH EXTERNAL ' + uid + b'\r\n')
        line = self._read_line()
        if not line.startswith(b'OK '):
            raise SandboxError(f'system bus refused us: {line!r}')
        self.sock.sendall(b'BEGIN\r\n')
        self.serial = 0

    def _read_line(self) -> bytes:
        line = b''
        while not line.endswith(b'\r\n'):
            chunk = self.sock.recv(1)
            if not chunk:
                raise SandboxError('system bus closed the connection while authenticating')
            line += chunk
        return line

    def _read(self, n: int) -> bytes:
        data = b''
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def receive(self) -> tuple[int, int, int, dict[int, str | int], _In]:
        """(type, flags, serial, header fields, reader at the body); EOFError once closed."""
        head = self._read(16)
        endian = '<' if head[0:1] == b'l' else '>'
        kind, flags = head[1], head[2]
        body_len, serial, fields_len = struct.unpack_from(endian + 'III', head, 4)
        rest = self._read(fields_len + (-(16 + fields_len) % 8) + body_len)
        data = head + rest
        r = _In(data, endian, 16)
        fields: dict[int, str | int] = {}
        while r.pos < 16 + fields_len:
            r.pos += -r.pos % 8
            code = data[r.pos]
            r.pos += 1
            fields[code] = r.value('v')
        return kind, flags, serial, fields, _In(data[len(data) - body_len:], endian)

    def send(self, kind: int, fields: dict, sig: str = '', args: tuple = ()) -> int:
        self.serial += 1
        self.sock.sendall(_message(kind, self.serial, fields, sig, args))
        return self.serial

    def call_bus(self, member: str, sig: str = '', args: tuple = ()):
        """A method of the bus itself, waited for (only before anything else runs)."""
        serial = self.send(CALL, {PATH: '/org/freedesktop/DBus', INTERFACE: 'org.freedesktop.DBus',
                                  MEMBER: member, DESTINATION: 'org.freedesktop.DBus'}, sig, args)
        while True:
            kind, _, _, fields, body = self.receive()
            if kind in (RETURN, ERROR) and fields.get(REPLY_SERIAL) == serial:
                if kind == ERROR:
                    raise SandboxError(f'{member}: {fields.get(ERROR_NAME)}: {body.value("s")}')
                sig = fields.get(SIGNATURE)
                return body.value(sig) if sig else None     # 's' or 'u' here


def _in_private_namespace() -> bool:
    """Ours is not init's mount namespace (unreadable: not our parent's, the host's)."""
    own = os.readlink('/proc/self/ns/mnt')
    for pid in (1, os.getppid()):
        try:
            return os.readlink(f'/proc/{pid}/ns/mnt') != own
        except OSError:
            continue
    return False


# -- the fake ------------------------------------------------------------------------------

class FakeSystemd:
    """systemd as init, for banger-signal's purposes: start(), set the pids, stop()."""

    def __init__(self, unit: str):
        self.unit = unit
        self.unit_path = unit_object_path(unit)
        self.main_pid = 0
        self.control_pid = 0
        self.answering = True        # False: take the calls, never reply (a hung systemd)
        self.calls: list[tuple] = []     # (member, args...) of every method call received
        self._lock = threading.Lock()
        self._conn: _Connection | None = None
        self._thread: threading.Thread | None = None
        self._mounted = False

    def calls_since(self, mark: int) -> list[tuple]:
        with self._lock:
            return self.calls[mark:]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def start(self) -> None:
        """/run/systemd/system exists, and the name is ours on the bus."""
        if not self._mounted:
            if not _in_private_namespace():
                raise SandboxError('refusing to mount on /run/systemd outside a private namespace')
            os.makedirs(RUN_SYSTEMD, exist_ok=True)
            mounts.tmpfs(RUN_SYSTEMD)
            self._mounted = True
            os.mkdir(os.path.join(RUN_SYSTEMD, 'system'))
        if self._conn is not None:
            return
        conn = _Connection()
        conn.call_bus('Hello')
        try:
            got = conn.call_bus('RequestName', 'su', (NAME, 4))     # 4: do not queue
        except SandboxError as e:
            got = e
        if got != 1:                                                 # 1: primary owner
            conn.sock.close()
            raise SandboxError(f'cannot own {NAME} on the sandbox bus ({got}): root may only '
                               f'by systemd\'s bus policy, {POLICY}')
        self._conn = conn
        self._thread = threading.Thread(target=self._serve, name='fake-systemd', daemon=True)
        self._thread.start()

    def stop_answering(self) -> None:
        """Off the bus (systemd "runs", as /run/systemd/system says, but cannot be asked)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        conn.sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
        conn.sock.close()
        deadline = time.monotonic() + 10
        while bus_has(NAME):                 # the bus drops the name once it sees us go
            if time.monotonic() > deadline:
                raise SandboxError(f'{NAME} still owned after the fake left the bus')
            time.sleep(0.02)

    def stop(self) -> None:
        """Off the bus, and /run/systemd as it was."""
        self.stop_answering()
        if self._mounted:
            mounts.umount(RUN_SYSTEMD)
            self._mounted = False

    def _serve(self) -> None:
        assert self._conn is not None
        conn = self._conn
        while True:
            try:
                kind, flags, serial, fields, body = conn.receive()
            except (EOFError, OSError):
                return
            if kind != CALL:
                continue
            sig = str(fields.get(SIGNATURE, ''))
            args = tuple(body.value(t) for t in sig) if sig in ('s', 'ss') else ()
            with self._lock:
                self.calls.append((fields.get(MEMBER), *args))
            if flags & NO_REPLY_EXPECTED or not self.answering:
                continue
            reply = self._answer(fields, args)
            to = {REPLY_SERIAL: serial, DESTINATION: fields.get(SENDER, '')}
            try:
                if reply[0] == ERROR:
                    conn.send(ERROR, {**to, ERROR_NAME: reply[1]}, 's', (reply[2],))
                else:
                    conn.send(RETURN, to, reply[1], reply[2])
            except OSError:
                return

    def _answer(self, fields: dict, what: tuple) -> tuple:
        where = (fields.get(PATH), fields.get(INTERFACE), fields.get(MEMBER))
        if where == (MANAGER_PATH, MANAGER, 'GetUnit') and len(what) == 1:
            if what[0] == self.unit:
                return RETURN, 'o', (self.unit_path,)
            return ERROR, 'org.freedesktop.systemd1.NoSuchUnit', f'Unit {what[0]} not loaded.'
        if where == (self.unit_path, PROPERTIES, 'Get') and len(what) == 2:
            pids = {'MainPID': self.main_pid, 'ControlPID': self.control_pid}
            if what[0] == SERVICE and what[1] in pids:
                return RETURN, 'v', (('u', pids[what[1]]),)
            return ERROR, 'org.freedesktop.DBus.Error.UnknownProperty', f'{what} unknown'
        return ERROR, 'org.freedesktop.DBus.Error.UnknownMethod', f'{where} is not faked'
