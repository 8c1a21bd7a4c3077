#!/usr/bin/env python3
"""What a stop costs on a booted host, door by door (tests/hosts, scenario "bench").

Run as bangerd, in one transient service (as bangerd itself would call), with a polkit rule
of the test's that lets it manage units (for `systemctl kill`, the baseline, and for
starting the VMs). Each VM is a unit of its own (bench-vm-*.service) running the stand-in
with an api socket in banger's runtime dir, so that banger-signal accepts it (rule 2) and
`systemctl kill` can stop it by its unit. Every round starts the VMs first, then times each
way of stopping them, in an order that changes from round to round:

    socket     banger-signal --door socket --pid P...   (one call)
    pkexec     banger-signal --door pkexec --pid P...   (one call, pkexec banger-signal)
    systemctl  systemctl kill U...                      (one call)

for one VM and for 25. Prints one JSON object: the medians (ms) and the ratios. Under qemu's
TCG the milliseconds are slow; read the ratios.

    bench.py [--rounds-one N] [--rounds-many N] [--many 25] [--doors socket,pkexec,systemctl]

Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BINARY = '/usr/bin/banger-signal'
STANDIN = '/usr/local/lib/banger-hosts/firecracker'
RUNTIME_DIR = '/run/banger'


def start_vms(tag: str, count: int) -> list[tuple[str, int]]:
    """`count` VM units, each listening on its api socket: [(unit, pid)]."""
    units = []
    for i in range(count):
        unit = f'bench-vm-{tag}-{i}.service'
        sock = f'{RUNTIME_DIR}/bench-{tag}-{i}.sock'
        started = subprocess.run(['systemd-run', '--quiet', f'--unit={unit}', '--service-type=exec',
                                  '-p', 'CollectMode=inactive-or-failed', '--', STANDIN, '--api-sock', sock],
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if started.returncode != 0:
            raise SystemExit(f'systemd-run {unit}: exit {started.returncode}: {started.stderr.strip()}')
        units.append((unit, sock))
    vms = []
    for unit, sock in units:
        deadline = time.monotonic() + 30
        while not os.path.exists(sock):
            if time.monotonic() > deadline:
                raise SystemExit(f'{unit} never listened on {sock}')
            time.sleep(0.01)
        pid = int(subprocess.run(['systemctl', 'show', '-P', 'MainPID', unit], check=True,
                                 capture_output=True, text=True).stdout)
        vms.append((unit, pid))
    return vms


def wait_gone(vms: list[tuple[str, int]]) -> None:
    deadline = time.monotonic() + 30
    for _, pid in vms:
        while os.path.exists(f'/proc/{pid}'):
            if time.monotonic() > deadline:
                raise SystemExit(f'pid {pid} was not stopped')
            time.sleep(0.01)


def stop(door: str, vms: list[tuple[str, int]]) -> float:
    """Seconds the stop took; the call must have succeeded."""
    if door == 'systemctl':
        argv = ['systemctl', 'kill', '--signal=TERM', *[u for u, _ in vms]]
    else:
        argv = [BINARY, '--door', door, *[a for _, p in vms for a in ('--pid', str(p))]]
    started = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f'{argv[:4]}...: exit {proc.returncode}: {proc.stderr.strip()[:300]}')
    wait_gone(vms)
    return took


def measure(doors: list[str], count: int, rounds: int, tag: str) -> dict[str, float]:
    times: dict[str, list[float]] = {d: [] for d in doors}
    for r in range(rounds):
        order = doors[r % len(doors):] + doors[:r % len(doors)]
        vms = {d: start_vms(f'{tag}{r}-{d}', count) for d in order}
        for d in order:
            times[d].append(stop(d, vms[d]))
    return {d: round(statistics.median(t) * 1000, 1) for d, t in times.items()}


def ratios(ms: dict[str, float]) -> dict[str, float]:
    base = ms.get('systemctl')
    out = {}
    for d, v in ms.items():
        if base and d != 'systemctl':
            out[f'{d}/systemctl'] = round(v / base, 2)
    if 'socket' in ms and 'pkexec' in ms:
        out['socket/pkexec'] = round(ms['socket'] / ms['pkexec'], 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds-one', type=int, default=7)
    ap.add_argument('--rounds-many', type=int, default=3)
    ap.add_argument('--many', type=int, default=25)
    ap.add_argument('--doors', default='socket,pkexec,systemctl')
    args = ap.parse_args()
    doors = args.doors.split(',')
    run = os.getpid()  # a later run (another sandbox variant) names its units afresh
    one = measure(doors, 1, args.rounds_one, f'{run}o') if args.rounds_one else {}
    many = measure(doors, args.many, args.rounds_many, f'{run}m') if args.rounds_many else {}
    print(json.dumps({'one': one, 'one_ratios': ratios(one), 'many': many,
                      'many_ratios': ratios(many), 'count': args.many}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
