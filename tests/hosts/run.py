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
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_ROOT = HERE.parent.parent
GUEST = HERE / 'guest'
GUEST_LIB = 'usr/local/lib/banger-hosts'

RELEASES = {'bookworm': 'Debian 12', 'trixie': 'Debian 13'}

# Seconds. Measured on 2 cores shared with other builds: build 6-7 min (chroot, Build-Depends,
# compile, dh_auto_test), image 1-2 min, boot and scenarios 1-2 min. The limits are for
# hangs, not for slowness.
TIMEOUT_BUILD = 25 * 60
TIMEOUT_LINT = 5 * 60
TIMEOUT_IMAGE = 10 * 60
TIMEOUT_BOOT = 12 * 60

IMAGE_SIZE = '2G'    # sparse; about 500 MB used
GUEST_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'dbus', 'linux-image-cloud-amd64',
                  'python3']
CONSOLE_TAIL = 80


# ------------------------------------------------------------------------------ facts


@dataclass(frozen=True)
class Mirror:
    uri: str
    signed_by: str | None


def debian_mirror() -> Mirror:
    """The Debian archive this machine's apt uses (not its security or backports suites)."""
    entries = []
    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        for stanza in Path(path).read_text(encoding='utf-8').split('\n\n'):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith('#') or ':' not in line or line[0].isspace():
                    continue
                key, _, value = line.partition(':')
                fields[key.strip().lower()] = value.strip()
            if 'deb' in fields.get('types', '').split() and fields.get('enabled', 'yes') != 'no':
                for uri in fields.get('uris', '').split():
                    entries.append((uri, fields.get('suites', '').split(),
                                    fields.get('signed-by')))
    for path in ['/etc/apt/sources.list', *sorted(glob.glob('/etc/apt/sources.list.d/*.list'))]:
        try:
            text = Path(path).read_text(encoding='utf-8')
        except OSError:
            continue
        for line in text.splitlines():
            m = re.match(r'^deb\s+(?:\[([^]]*)\]\s+)?(\S+)\s+(\S+)', line)
            if m:
                signed = re.search(r'signed-by=(\S+)', m[1] or '')
                entries.append((m[2], [m[3]], signed[1] if signed else None))
    for uri, suites, signed_by in entries:
        if any(s in RELEASES or re.fullmatch(r'(stable|oldstable|testing)', s) for s in suites):
            return Mirror(uri.rstrip('/'), signed_by if signed_by and signed_by.startswith('/')
                          else None)
    raise SystemExit('tests/hosts: no Debian archive in /etc/apt/sources.list{,.d}')


def package_version() -> str:
    """The version in debian/changelog, which must be meson's project version."""
    changelog = (SOURCE_ROOT / 'debian' / 'changelog').read_text(encoding='utf-8')
    version = re.match(r'^banger-signal \(([^)]+)\)', changelog)[1]
    meson = re.search(r"^\s*version:\s*'([^']+)'", (SOURCE_ROOT / 'meson.build').read_text(
        encoding='utf-8'), re.M)[1]
    if version != meson:
        raise SystemExit(f'tests/hosts: debian/changelog says {version}, meson.build {meson}')
    return version


# ------------------------------------------------------------------------------ steps


class StepFailed(Exception):
    """A step of a release could not be done; the message says why."""


_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


def run_logged(argv: list[str], log: Path, timeout: float, env: dict | None = None) -> None:
    """Runs argv with its output appended to log; a non-zero exit or a timeout fails.

    The command gets its own process group, so a timeout stops all of it: TERM first
    (mmdebstrap then unmounts and removes its chroot), KILL after 60 s. So does a TERM
    or INT to this script (see stop_everything).
    """
    with open(log, 'ab') as out:
        out.write(f'\n$ {" ".join(argv)}\n'.encode())
        out.flush()
        with _running_lock:
            if _stopping.is_set():
                raise StepFailed('stopped')
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True,
                                    env={**os.environ, **(env or {})})
            _running.add(proc)
        try:
            rc = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise StepFailed(f'{argv[0]} timed out after {timeout:.0f} s (log: {log})') from None
        finally:
            with _running_lock:
                _running.discard(proc)
    if rc != 0:
        raise StepFailed(f'{argv[0]} exited {rc} (log: {log})')


def stop_everything(signum: int, _frame) -> None:
    """TERM/INT: stop every running step (they are in process groups of their own)."""
    with _running_lock:
        _stopping.set()
        procs = list(_running)
    killers = [threading.Thread(target=_kill_group, args=(proc,)) for proc in procs]
    for killer in killers:
        killer.start()
    for killer in killers:   # before the work dir is removed
        killer.join()
    raise SystemExit(128 + signum)


def _kill_group(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGTERM, 60), (signal.SIGKILL, 30)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def copy_source(dest: Path) -> None:
    """The tree as git sees it (tracked and untracked, not ignored): no build dirs."""
    listing = subprocess.run(['git', '-C', str(SOURCE_ROOT), 'ls-files', '-z', '--cached',
                              '--others', '--exclude-standard'],
                             capture_output=True, check=False)
    if listing.returncode == 0:
        files = [f for f in listing.stdout.decode().split('\0') if f]
    else:   # not a git checkout: everything but what .gitignore names at the top
        files = [str(p.relative_to(SOURCE_ROOT)) for p in SOURCE_ROOT.rglob('*')
                 if p.is_file() and not re.match(r'(build|obj-)|\.git$|.*__pycache__',
                                                 str(p.relative_to(SOURCE_ROOT)))]
    for name in files:
        src = SOURCE_ROOT / name
        if src.is_file() or src.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name, follow_symlinks=False)


def mmdebstrap(mirror: Mirror, release: str, variant: str, target: str,
               hooks: list[str], include: list[str], log: Path, timeout: float,
               tmp: Path) -> None:
    signed = f'[signed-by={mirror.signed_by}] ' if mirror.signed_by else ''
    argv = ['mmdebstrap', '--mode=root', f'--variant={variant}']
    if include:
        argv.append('--include=' + ','.join(include))
    argv += [f'--customize-hook={h}' for h in hooks]
    argv += [release, target, f'deb {signed}{mirror.uri} {release} main']
    # mmdebstrap's temporary chroot lands in TMPDIR: inside our work dir, removed with it.
    for attempt in (1, 2):
        seen = log.stat().st_size if log.exists() else 0
        try:
            run_logged(argv, log, timeout, env={'TMPDIR': str(tmp)})
            return
        except StepFailed:
            with open(log, 'rb') as f:
                f.seek(seen)
                output = f.read().decode(errors='replace')
            # One more try when the mirror failed us, not when the build did.
            if attempt == 2 or _stopping.is_set() or not MIRROR_TROUBLE.search(output):
                raise
            if target != '/dev/null':
                remove_tree(Path(target))


MIRROR_TROUBLE = re.compile(r'^(E|W): (Failed to fetch|Unable to fetch|Some index files failed)'
                            r'|Temporary failure resolving|Connection timed out|Hash Sum mismatch',
                            re.M)


@dataclass
class Release:
    name: str
    work: Path
    logdir: Path
    mirror: Mirror
    version: str
    results: list[dict] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    broken: str | None = None
    _raw: list[dict] = field(default_factory=list)

    @property
    def out(self) -> Path:
        return self.work / 'out'

    def log(self, step: str) -> Path:
        return self.logdir / f'{self.name}-{step}.log'

    # -- build: the .deb in a chroot of the release ---------------------------------------
    def build(self) -> str:
        src = self.work / 'banger-signal'
        src.mkdir()
        copy_source(src)
        self.out.mkdir()
        build = 'cd /build/banger-signal && apt-get build-dep -y ./ && dpkg-buildpackage -us -uc -b'
        # The stand-in VM is built with the package (meson builds it by default) against
        # this release's libraries, which is where it runs.
        collect = ('mkdir /out && cp /build/*.deb /build/*.changes /build/*.buildinfo /out/ && '
                   'cp /build/banger-signal/obj-*/tests/standin/firecracker /out/')
        mmdebstrap(self.mirror, self.name, 'buildd', '/dev/null', [
            'mkdir "$1/build"',
            f'copy-in {src} /build',
            f'chroot "$1" sh -c "{build}"',
            f'chroot "$1" sh -c "{collect}"',
            f'sync-out /out {self.out}',
        ], [], self.log('build'), TIMEOUT_BUILD, self.work)
        shutil.rmtree(src)
        deb = self.deb()
        return f'{deb.name} ({deb.stat().st_size // 1024} KiB)'

    def deb(self) -> Path:
        return self.out / f'banger-signal_{self.version}_amd64.deb'

    # -- lint ------------------------------------------------------------------------------
    def lint(self) -> str:
        changes = self.out / f'banger-signal_{self.version}_amd64.changes'
        run_logged(['lintian', '--fail-on', 'error,warning', '--info', str(self.deb()),
                    str(changes)], self.log('lint'), TIMEOUT_LINT)
        tags = [line for line in self.log('lint').read_text(errors='replace').splitlines()
                if re.match(r'^[EWIPX]: ', line)]
        return 'no tags' if not tags else f'{len(tags)} info tags: {"; ".join(tags)[:200]}'

    # -- image: the release as a user would have it, with the package from apt ------------
    def image(self) -> str:
        root = self.work / 'root'
        deb = self.deb()
        mmdebstrap(self.mirror, self.name, 'minbase', str(root), [
            f'copy-in {deb} /tmp',
            f'chroot "$1" apt-get install -y --no-install-recommends /tmp/{deb.name}',
            f'rm "$1/tmp/{deb.name}"',
        ], GUEST_PACKAGES, self.log('image'), TIMEOUT_IMAGE, self.work)
        self._add_test_files(root)
        # The release's own kernel and initrd (the /vmlinuz and /initrd.img links).
        kernel = os.path.basename(os.readlink(root / 'vmlinuz'))
        for name in ('vmlinuz', 'initrd.img'):
            shutil.copy(root / os.readlink(root / name).lstrip('/'), self.work / name)
        image = self.work / 'image.raw'
        run_logged(['mkfs.ext4', '-q', '-F', '-L', 'root', '-d', str(root), str(image),
                    IMAGE_SIZE], self.log('image'), TIMEOUT_IMAGE)
        remove_tree(root)
        return f'{image.stat().st_blocks * 512 >> 20} MiB used, {kernel}'

    def _add_test_files(self, root: Path) -> None:
        lib = root / GUEST_LIB
        lib.mkdir(parents=True)
        for name in ('scenarios.py', 'bangerd-root'):
            shutil.copy(GUEST / name, lib / name)
        shutil.copy(self.out / 'firecracker', lib / 'firecracker')
        shutil.copy(self.deb(), lib / self.deb().name)   # for reinstall and purge
        units = root / 'etc/systemd/system'
        for unit in ('bangerd-root.service', 'banger-hosts.service'):
            shutil.copy(GUEST / unit, units / unit)
        (units / 'multi-user.target.wants').mkdir(exist_ok=True)
        (units / 'multi-user.target.wants/banger-hosts.service').symlink_to(
            '/etc/systemd/system/banger-hosts.service')
        # The serial console is for the log: no login prompts on it.
        for unit in ('serial-getty@ttyS0.service', 'getty@tty1.service'):
            (units / unit).symlink_to('/dev/null')
        (root / 'etc/fstab').write_text('/dev/vda / ext4 rw 0 0\n', encoding='ascii')
        (root / 'etc/hostname').write_text(f'banger-{self.name}\n', encoding='ascii')

    # -- boot: qemu runs the scenarios -----------------------------------------------------
    def boot(self) -> str:
        console = self.logdir / f'{self.name}-console.log'
        results = self.work / 'results.txt'
        for path in (console, results):
            path.unlink(missing_ok=True)
        argv = ['qemu-system-x86_64', '-accel', 'tcg', '-m', '1024', '-smp', '2',
                '-display', 'none', '-no-reboot', '-nic', 'none', '-monitor', 'none',
                '-kernel', str(self.work / 'vmlinuz'), '-initrd', str(self.work / 'initrd.img'),
                '-append', 'root=/dev/vda rw console=ttyS0 panic=1',
                '-drive', f'file={self.work / "image.raw"},format=raw,if=virtio',
                '-serial', f'file:{console}', '-serial', f'file:{results}']
        try:
            run_logged(argv, self.log('qemu'), TIMEOUT_BOOT)
        finally:
            self._read_results(results)
            (self.logdir / f'{self.name}-results.txt').write_bytes(
                results.read_bytes() if results.exists() else b'')
        if not any(r.get('end') for r in self._raw):
            raise StepFailed('the guest powered off before reporting every scenario')
        return ', '.join(f'{k} {v}' for k, v in self.facts.items())

    def _read_results(self, path: Path) -> None:
        self._raw = []
        text = path.read_text(encoding='utf-8', errors='replace') if path.exists() else ''
        for line in text.splitlines():
            if line.startswith('BANGER-HOSTS '):
                try:
                    self._raw.append(json.loads(line[len('BANGER-HOSTS '):]))
                except json.JSONDecodeError:
                    pass
        for record in self._raw:
            if 'facts' in record:
                self.facts = record['facts']

    def console_tail(self) -> str:
        path = self.logdir / f'{self.name}-console.log'
        if not path.exists():
            return '(no console output)'
        lines = path.read_text(encoding='utf-8', errors='replace').splitlines()
        return '\n'.join(lines[-CONSOLE_TAIL:])

    # -- all of it -------------------------------------------------------------------------
    def steps(self, phase: str) -> list[tuple[str, str, object]]:
        if phase == 'package':
            return [('build', f'build the .deb in a {self.name} chroot', self.build),
                    ('lint', 'lintian --fail-on error,warning (.deb and .changes)', self.lint)]
        return [('image', 'bootable image, the .deb installed with apt', self.image),
                ('boot', 'boot under qemu and report every scenario', self.boot)]

    def run(self, phase: str) -> None:
        """Runs the steps of one phase; after a failed step the others report 'not run'."""
        for name, title, step in self.steps(phase):
            if self.broken:
                self.add(name, title, 'fail', f'not run: {self.broken}')
                continue
            started = time.monotonic()
            try:
                detail = step()
                status = 'pass'
            except (StepFailed, OSError, subprocess.SubprocessError) as e:
                status, detail, self.broken = 'fail', str(e), f'{name} failed'
            self.timings[name] = time.monotonic() - started
            self.add(name, title, status, detail, self.timings[name])

    def add_scenarios(self, scenarios: list[tuple[str, str]]) -> None:
        reported = {r['name']: r for r in self._raw if 'name' in r}
        for name, title in scenarios:
            r = reported.get(name)
            if r is None:
                self.add(name, title, 'fail',
                         f'not reported by the guest ({self.broken or "lost"})')
            else:
                self.add(name, title, r['status'], r['detail'], r.get('seconds'))

    @property
    def failed_in_guest(self) -> bool:
        """Whether the serial console may tell why: the boot step ran and something failed."""
        return 'boot' in self.timings and any(r['status'] not in PASSED for r in self.results)

    def add(self, name: str, title: str, status: str, detail: str,
            seconds: float | None = None) -> None:
        self.results.append({'release': self.name, 'name': name, 'title': title,
                             'status': status, 'detail': detail, 'seconds': seconds})


def remove_tree(path: Path) -> None:
    """rm -rf that never crosses into a mount (a chroot left with /proc or /dev bound)."""
    if not path.exists():
        return
    mounts = []
    with open('/proc/self/mountinfo', encoding='utf-8') as f:
        for line in f:
            point = line.split()[4].replace('\\040', ' ')
            if point == str(path) or point.startswith(f'{path}/'):
                mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(['umount', '--lazy', point], check=False)
    subprocess.run(['rm', '-rf', '--one-file-system', str(path)], check=False)


def guest_scenarios() -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location('banger_hosts_scenarios',
                                                  GUEST / 'scenarios.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [(name, title) for name, title, _ in module.SCENARIOS]


# ------------------------------------------------------------------------------ main

PASSED = {'pass', 'xfail'}
LABEL = {'pass': 'PASS', 'fail': 'FAIL', 'xfail': 'XFAIL', 'xpass': 'XPASS'}
MESON_RESULT = {'pass': 'OK', 'fail': 'FAIL', 'xfail': 'EXPECTEDFAIL', 'xpass': 'UNEXPECTEDPASS'}


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
    releases = [Release(name, work / name, args.logdir, mirror, version)
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
    passed = sum(r['status'] in PASSED for r in results)
    failed = len(results) - passed
    print(f'tests/hosts: wall time {time.monotonic() - started:.0f} s')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
