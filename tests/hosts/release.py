"""One Debian release in tests/hosts (run.py): build the .deb in a chroot of it, lint it,
make a bootable image with the package installed by apt, boot it under qemu and collect
what the guest (guest/scenarios.py) reports.

Python 3 standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from steps import Mirror, StepFailed, copy_source, mmdebstrap, remove_tree, run_logged

GUEST = Path(__file__).resolve().parent / 'guest'
GUEST_LIB = 'usr/local/lib/banger-hosts'
# The FUSE server that never answers (stalled-judging), shared with tests/e2e.
STALLFS = Path(__file__).resolve().parents[1] / 'lib' / 'banger_test' / 'stallfs.py'

# Seconds. Measured on 2 cores shared with other builds: build 6-7 min (chroot, Build-Depends,
# compile, dh_auto_test), image 1-2 min, boot and scenarios 1-2 min. The limits are for
# hangs, not for slowness.
TIMEOUT_BUILD = 25 * 60
TIMEOUT_LINT = 5 * 60
TIMEOUT_IMAGE = 10 * 60
TIMEOUT_BOOT = 20 * 60

IMAGE_SIZE = '2G'    # sparse; about 500 MB used
GUEST_PACKAGES = ['systemd', 'systemd-sysv', 'udev', 'dbus', 'linux-image-cloud-amd64',
                  'python3']
CONSOLE_TAIL = 80


@dataclass
class Release:
    name: str
    work: Path
    logdir: Path
    mirror: Mirror
    version: str
    bench_variants: bool = False   # socket-bench: also the unit's sandboxing variants
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
        for name in ('scenarios.py', 'world.py', 'bench.py', 'bangerd-root'):
            shutil.copy(GUEST / name, lib / name)
        shutil.copy(STALLFS, lib / 'stallfs.py')
        (lib / 'bench.json').write_text(json.dumps({'variants': self.bench_variants}),
                                        encoding='ascii')
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
        return 'boot' in self.timings and any(r['status'] != 'pass' for r in self.results)

    def add(self, name: str, title: str, status: str, detail: str,
            seconds: float | None = None) -> None:
        self.results.append({'release': self.name, 'name': name, 'title': title,
                             'status': status, 'detail': detail, 'seconds': seconds})
