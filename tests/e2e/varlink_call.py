#!/usr/bin/env python3
"""A bare Varlink peer for the e2e tests: sends what it is told, prints what comes back.

    varlink_call.py SOCKET [--send TEXT]... [--send-file PATH]... [--replies N]
                           [--hangup-after SECONDS] [--half-close] [--give-away]

Each --send / --send-file is one message, sent as given (bytes, not checked) and ended by
a NUL byte unless --no-nul. Then it reads up to N replies (default: one per message sent)
and prints each as one line of JSON text, as received, on stdout; "EOF" once the other end
closed the connection. --hangup-after S: wait S seconds after sending, then close without
reading (a caller that goes away mid-call). --half-close: shut the sending side right
after sending (what banger-signal's client does on Ctrl-C). --give-away: hand the
connection to a child process and close it here before sending (the connector keeps
living but no longer holds it); the child sends and reads.

Run as the test user whose call it is (the socket door's peer is this process).
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time


def read_replies(s: socket.socket, count: int, timeout: float) -> list[str]:
    s.settimeout(timeout)
    buffer = b''
    out: list[str] = []
    while len(out) < count:
        if b'\0' in buffer:
            message, buffer = buffer.split(b'\0', 1)
            out.append(message.decode('utf-8', errors='replace'))
            continue
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            out.append('TIMEOUT')
            break
        if not chunk:
            out.append('EOF')
            break
        buffer += chunk
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('socket')
    ap.add_argument('--send', action='append', default=[])
    ap.add_argument('--send-file', action='append', default=[])
    ap.add_argument('--no-nul', action='store_true')
    ap.add_argument('--replies', type=int)
    ap.add_argument('--hangup-after', type=float)
    ap.add_argument('--half-close', action='store_true')
    ap.add_argument('--give-away', action='store_true')
    ap.add_argument('--timeout', type=float, default=60.0)
    args = ap.parse_args()

    messages = [m.encode('utf-8', errors='surrogateescape') for m in args.send]
    for path in args.send_file:
        with open(path, 'rb') as f:
            messages.append(f.read())
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(args.socket)
    if args.give_away:
        child = os.fork()
        if child != 0:
            s.close()   # the connector lives on, without the connection
            _, status = os.waitpid(child, 0)
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.2)   # the parent has closed its copy by now
    for m in messages:
        try:
            s.sendall(m if args.no_nul else m + b'\0')
        except (BrokenPipeError, ConnectionResetError):
            break   # the other end stopped reading (a message over its limit): read its answer
    if args.hangup_after is not None:
        time.sleep(args.hangup_after)
        s.close()
        print('HUNG UP', flush=True)
        return 0
    if args.half_close:
        s.shutdown(socket.SHUT_WR)
    for reply in read_replies(s, args.replies if args.replies is not None else len(messages),
                              args.timeout):
        print(reply, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
