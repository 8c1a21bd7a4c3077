"""The host side's tools for tests/hosts (run.py): this machine's Debian mirror, the
package version, and steps that run a command with a log and a timeout (mmdebstrap among
them), stoppable as a whole.

Python 3 standard library only.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

SOURCE_ROOT = Path(__file__).resolve().parent.parent.parent
RELEASES = {'bookworm': 'Debian 12', 'trixie': 'Debian 13'}


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
