#!/usr/bin/env python3
"""banger-signal's Debian package on real Debian hosts (systemd as PID 1), under qemu.

For each release (Debian 12 bookworm, Debian 13 trixie):

  build   dpkg-buildpackage -us -uc -b in a fresh chroot of that release (mmdebstrap), so
          the code compiles against that release's libraries and the Build-Depends are
          complete; the package's own checks (dh_auto_test) run there too
  lint    lintian --fail-on error,warning of this machine on the .deb and the .changes
  image   a bootable root filesystem of that release with its cloud kernel and initrd; the
          .deb is installed with apt from the mirror, as a user's `apt install ./x.deb`
  boot    qemu (TCG) boots it; guest/scenarios.py runs the scenarios as an admin and a
          bangerd would, reports each result on a second serial port, and powers off

Prints one line per step and scenario, and "N passed, N failed". Exit 0 only when all
passed. Every mirror access uses the Debian mirror of this machine's apt sources. Every
step has a timeout; the serial console is kept in LOGDIR, and its tail printed when a
release failed after it booted. Temporary chroots and images (several GB) are removed at
the end.

  python3 tests/hosts/run.py [--release bookworm] [--jobs 1|2] [--logdir DIR]
                             [--testlog FILE] [--keep]

Needs root, mmdebstrap, qemu-system-x86, e2fsprogs and lintian (tools/deps hosts).
steps.py has the mirror and the logged steps, release.py what is done for each release,
guest/ what runs inside. Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import importlib.util
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from release import CONSOLE_TAIL, GUEST, Release
from steps import RELEASES, SOURCE_ROOT, debian_mirror, package_version, remove_tree, stop_everything


def guest_scenarios() -> list[tuple[str, str]]:
    sys.path.insert(0, str(GUEST))   # scenarios.py imports world.py, as in the guest
    spec = importlib.util.spec_from_file_location('banger_hosts_scenarios',
                                                  GUEST / 'scenarios.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(name, title) for name, title, _ in module.SCENARIOS]


# ------------------------------------------------------------------------------ main

LABEL = {'pass': 'PASS', 'fail': 'FAIL'}
MESON_RESULT = {'pass': 'OK', 'fail': 'FAIL'}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--release', action='append', choices=list(RELEASES),
                        help='only this release (repeatable; default: all)')
    parser.add_argument('--jobs', type=int, default=2, choices=(1, 2),
                        help='2 (default): boot a release while the next one builds; '
                             '1: one step after the other')
    parser.add_argument('--logdir', type=Path, default=SOURCE_ROOT / 'build-hosts',
                        help='build logs, serial consoles, results (default: build-hosts)')
    parser.add_argument('--testlog', type=Path,
                        help='also write the results as meson testlog.json lines here')
    parser.add_argument('--bench-variants', action='store_true',
                        help='socket-bench: measure, 9 rounds, with the socket door under each '
                             'sandboxing variant of its unit too (about 10 minutes a release; '
                             'default: one round of the three ways as shipped, no verdict)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory (chroot output, images)')
    args = parser.parse_args()
    if os.geteuid() != 0:
        print('tests/hosts: needs root (mmdebstrap --mode=root, mkfs, qemu)', file=sys.stderr)
        return 1
    missing = [t for t in ('mmdebstrap', 'qemu-system-x86_64', 'mkfs.ext4', 'lintian')
               if shutil.which(t) is None]
    if missing:
        print(f'tests/hosts: missing {", ".join(missing)}: run tools/deps hosts', file=sys.stderr)
        return 1

    started = time.monotonic()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_everything)
    mirror = debian_mirror()
    version = package_version()
    scenarios = guest_scenarios()
    args.logdir.mkdir(parents=True, exist_ok=True)
    for old in args.logdir.glob('*'):
        old.unlink()
    work = Path(tempfile.mkdtemp(prefix='banger-hosts-', dir='/var/tmp'))
    os.chmod(work, 0o755)   # apt in the chroots downloads as _apt
    releases = [Release(name, work / name, args.logdir, mirror, version, args.bench_variants)
                for name in (args.release or RELEASES)]
    print(f'tests/hosts: {", ".join(f"{r.name} ({RELEASES[r.name]})" for r in releases)}; '
          f'work in {work}, logs in {args.logdir}', flush=True)
    lock = threading.Lock()

    def host_phase(release: Release) -> None:
        try:
            release.run('host')
            release.add_scenarios(scenarios)
        finally:
            if not args.keep:
                remove_tree(release.work)
        with lock:
            steps = ', '.join(f'{k} {v:.0f} s' for k, v in release.timings.items())
            print(f'tests/hosts: {release.name} done: {steps}', flush=True)

    # Two lanes: packages are built one release after the other (compiling takes both
    # cores), and a release's image and boot run while the next release builds.
    # --jobs 1 does everything one step after the other.
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as host_lane:
            booted = []
            for release in releases:
                release.work.mkdir(mode=0o755)
                release.run('package')
                if args.jobs == 1:
                    host_phase(release)
                else:
                    booted.append(host_lane.submit(host_phase, release))
            for future in booted:
                future.result()
    finally:
        if not args.keep:
            remove_tree(work)

    results = [r for release in releases for r in release.results]
    width = max(len(r['name']) for r in results)
    for r in results:
        took = f' ({r["seconds"]:.1f} s)' if r['seconds'] is not None else ''
        print(f'{LABEL[r["status"]]:<5} {r["release"]:<8} {r["name"]:<{width}}  '
              f'{r["title"]}: {r["detail"]}{took}')
    for release in releases:
        if release.failed_in_guest:
            print(f'--- last {CONSOLE_TAIL} lines of the {release.name} serial console '
                  f'({args.logdir}/{release.name}-console.log) ---\n{release.console_tail()}')
    if args.testlog:
        with open(args.testlog, 'w', encoding='utf-8') as log:
            for r in results:
                log.write(json.dumps({'name': f'hosts/{r["release"]}/{r["name"]}',
                                      'result': MESON_RESULT[r['status']],
                                      'duration': r['seconds']}) + '\n')
    passed = sum(r['status'] == 'pass' for r in results)
    failed = len(results) - passed
    print(f'tests/hosts: wall time {time.monotonic() - started:.0f} s')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
