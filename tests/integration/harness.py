"""Shared fixtures for the banger-signal integration tests.

The tests run the real binary, as root, against real processes placed in real
cgroups. Everything they create lives under a per-run cgroup
``<cgroup2 mount>/banger-test-<pid>/`` and a per-run directory
``/tmp/banger-it-XXXX/``; both are removed at exit, also after failures.

Environment (set by tests/integration/meson.build):
  BANGER_SIGNAL  the banger-signal binary under test
  STANDIN        the stand-in Firecracker (exe basename ``firecracker``)
  IMPOSTOR       the same program built as ``fc-impostor``
  BANGER_VERSION optional: the meson project version, checked by --version
  PYTHONPATH     tests/lib, for banger_test (the code shared with tests/e2e and bench)

Exit status 77 (meson: skipped) when not root or no writable cgroup2 mount.
The exit codes of the contract (banger-signal(8), EXIT STATUS) are named in
banger_test.codes (tests/lib), checked against --help.
"""

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from banger_test import cgroups, codes, procfs
from banger_test.spawn import READY_TIMEOUT, spawn

SKIP_EXIT = codes.SKIP

# How long a wrongly signalled process gets to die before we call it alive.
ALIVE_GRACE = 0.3
RUN_TIMEOUT = 30.0

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def find_cgroup_mounts():
    """Return (cgroup2 mountpoint or None, v1 name=systemd mountpoint or None).

    Only mounts whose root is "/" are used: otherwise the paths we create would
    not be the paths the kernel reports in /proc/<pid>/cgroup.
    """
    v2, v1 = cgroups.cgroup2_mount(), cgroups.v1_systemd_mount()
    return (v2.point if v2 and v2.root == "/" else None), (v1.point if v1 else None)


def environment_problem():
    """Why these tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "not running as root"
    v2, _ = find_cgroup_mounts()
    if v2 is None:
        return "no cgroup2 mount in /proc/self/mountinfo"
    if not os.access(v2, os.W_OK):
        return f"cgroup2 mount {v2} is not writable"
    for name in ("BANGER_SIGNAL", "STANDIN", "IMPOSTOR"):
        path = os.environ.get(name)
        if not path or not os.access(path, os.X_OK):
            return f"environment variable {name} does not name an executable"
    return None


def main():
    """Entry point of every test file: skip (77) or run unittest."""
    # meson's timeout sends SIGTERM. unittest would record a SystemExit as one
    # test's error and go on, so clean up here and leave at once.
    signal.signal(signal.SIGTERM, _on_sigterm)
    problem = environment_problem()
    if problem is not None:
        print(f"SKIP: {problem}", file=sys.stderr)
        sys.exit(SKIP_EXIT)
    unittest.main(verbosity=2)


def _on_sigterm(signum, _frame):
    if _SESSION is not None:
        _SESSION.close()
    os._exit(128 + signum)


class Session:
    """Per-run cgroups, directories and config; torn down once, at exit."""

    def __init__(self):
        self.v2_mount, self.v1_systemd_mount = find_cgroup_mounts()
        self.name = f"banger-test-{os.getpid()}"
        self.root = f"/{self.name}"
        self.tmp = tempfile.mkdtemp(prefix="banger-it-")
        self.run_dir = os.path.join(self.tmp, "run")
        self.runtime_dir = os.path.join(self.run_dir, "banger")
        os.makedirs(self.runtime_dir)
        self.config_dir = os.path.join(self.tmp, "etc")
        os.makedirs(self.config_dir)
        self._v1_used = False
        self._counter = 0
        self.procs = []
        atexit.register(self.close)

        # The cgroup tree of the brief. Paths are as /proc/<pid>/cgroup shows them.
        self.service = self.cgroup("system.slice/bangerd-root.service")
        self.nested = self.cgroup("system.slice/bangerd-root.service/vm1")
        self.nested_deep = self.cgroup("system.slice/bangerd-root.service/vm1/inner")
        self.prefix_extended = self.cgroup("system.slice/bangerd-root.service-x")
        self.spoofed = self.cgroup(
            "user.slice/user-1000.slice/user@1000.service/app.slice/bangerd-root.service")
        self.parent_slice = self.root + "/system.slice"
        self.foreign = self.cgroup("other.slice/foreign.scope")
        self.config = self.write_config(runtime_dir=self.runtime_dir,
                                        service_cgroup=self.service)

    # -- cgroups ---------------------------------------------------------
    def cgroup(self, rel, v1=False):
        """Create <mount>/banger-test-<pid>/<rel> (and parents); return its path."""
        mount = self.v1_systemd_mount if v1 else self.v2_mount
        self._v1_used |= v1
        path = f"/{self.name}/{rel}"
        os.makedirs(mount + path, exist_ok=True)
        return path

    def v2_procs_file(self, cgroup):
        return f"{self.v2_mount}{cgroup}/cgroup.procs"

    def v1_procs_file(self, cgroup):
        return f"{self.v1_systemd_mount}{cgroup}/cgroup.procs"

    # -- files -----------------------------------------------------------
    def fresh_dir(self, prefix):
        self._counter += 1
        path = os.path.join(self.tmp, f"{prefix}{self._counter}")
        os.makedirs(path)
        return path

    def write_config(self, text=None, *, runtime_dir=None, service_cgroup=None,
                     mode=0o644, uid=0, gid=0):
        """Write a config file (root-owned 0644 unless told otherwise)."""
        if text is None:
            text = ""
            if runtime_dir is not None:
                text += f"runtime_dir = {json.dumps(runtime_dir)}\n"
            if service_cgroup is not None:
                text += f"service_cgroup = {json.dumps(service_cgroup)}\n"
        self._counter += 1
        path = os.path.join(self.config_dir, f"install-{self._counter}.toml")
        data = text.encode() if isinstance(text, str) else text
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, data)
            os.fchown(fd, uid, gid)
            os.fchmod(fd, mode)  # explicit: independent of the umask
        finally:
            os.close(fd)
        return path

    # -- teardown --------------------------------------------------------
    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except ProcessLookupError:
                    pass
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()

    def close(self):
        self.kill_all()
        # Anything of ours still in the trees is killed (only our processes can be there).
        for mount, used in ((self.v2_mount, True), (self.v1_systemd_mount, self._v1_used)):
            if mount and used:
                for problem in cgroups.remove_tree(mount + self.root):
                    print(f"warning: could not remove cgroup {problem}", file=sys.stderr)
        self._v1_used = False
        shutil.rmtree(self.tmp, ignore_errors=True)


_SESSION = None


def session():
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
    return _SESSION


class BangerTestCase(unittest.TestCase):
    """Spawning helpers, the binary runner and liveness assertions."""

    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.s = session()
        cls.bin = os.environ["BANGER_SIGNAL"]
        cls.standin = os.environ["STANDIN"]
        cls.impostor = os.environ["IMPOSTOR"]

    def setUp(self):
        self.addCleanup(self.s.kill_all)

    # -- processes -------------------------------------------------------
    def spawn(self, argv, *, executable=None, cgroup=None, v1_cgroup=None,
              env=None, cwd=None, wait_ready=True, stdout=subprocess.DEVNULL):
        """Start argv in the given cgroup(s), moved there before exec.

        With wait_ready, waits for "ready\\n" on STANDIN_READY_FD.
        """
        procs_files = []
        if cgroup is not None:
            procs_files.append(self.s.v2_procs_file(cgroup))
        if v1_cgroup is not None:
            procs_files.append(self.s.v1_procs_file(v1_cgroup))
        child_env = {"PATH": CLEAN_PATH, "LANG": "C"}
        child_env.update(env or {})
        p = spawn(argv, join=procs_files, env=child_env, executable=executable,
                  ready=wait_ready, timeout=READY_TIMEOUT, cwd=cwd or self.s.tmp, stdout=stdout)
        self.s.procs.append(p)
        # The placement is a precondition of every test: check the kernel's view.
        if cgroup is not None:
            seen = procfs.proc_cgroup(p.pid, "0")
            if seen != (cgroup or "/"):
                raise RuntimeError(f"pid {p.pid} is in {seen!r}, wanted {cgroup!r}")
        if v1_cgroup is not None:
            seen = procfs.proc_cgroup(p.pid, "name=systemd")
            if seen != v1_cgroup:
                raise RuntimeError(f"pid {p.pid} is in v1 {seen!r}, wanted {v1_cgroup!r}")
        return p

    def firecracker(self, *args, cgroup=None, env=None, **kw):
        """A stand-in Firecracker (exe basename "firecracker")."""
        return self.spawn([self.standin, *args], cgroup=cgroup, env=env, **kw)

    def vm(self, **kw):
        """A stand-in in the service cgroup: the plain, acceptable target."""
        kw.setdefault("cgroup", self.s.service)
        return self.firecracker(**kw)

    def outside_sock(self):
        """A fresh socket path outside the runtime dir (in the test's tmp dir)."""
        return os.path.join(self.s.fresh_dir("elsewhere-"), "api.sock")

    def runtime_sock(self):
        """A fresh, unique socket path strictly inside the runtime dir."""
        self.s._counter += 1
        d = os.path.join(self.s.runtime_dir, f"vm{self.s._counter}")
        os.makedirs(d)
        return os.path.join(d, "api.sock")

    # -- the binary --------------------------------------------------------
    def run_bs(self, *args, config="default", env=None, prefix=(), executable=None,
               cgroup=None, check_code=True, timeout=RUN_TIMEOUT):
        """Run banger-signal [--config C] ARGS with a clean environment.

        prefix: a wrapper command (setpriv, unshare, ...); cgroup: a v2 cgroup
        the wrapper (or the binary) is moved into before exec.
        """
        if config == "default":
            config = self.s.config
        argv = list(prefix) + [self.bin]
        if config is not None:
            argv += ["--config", config]
        argv += [str(a) for a in args]
        child_env = {"PATH": CLEAN_PATH, "LANG": "C"}
        for keep in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS"):
            if keep in os.environ:
                child_env[keep] = os.environ[keep]
        child_env.update(env or {})
        preexec = None
        if cgroup is not None:
            procs_file = self.s.v2_procs_file(cgroup)

            def preexec():
                with open(procs_file, "w") as f:
                    f.write(str(os.getpid()))
        r = subprocess.run(argv, env=child_env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, executable=executable, preexec_fn=preexec)
        r.out = r.stdout.decode("utf-8", errors="replace")
        r.err = r.stderr.decode("utf-8", errors="replace")
        r.argv = argv
        if check_code:
            self.assertIn(r.returncode, codes.CONTRACT_CODES,
                          f"exit code outside the contract: {self.describe(r)}")
        return r

    @staticmethod
    def describe(r):
        return (f"\n  argv: {r.argv!r}\n  rc:   {r.returncode}\n"
                f"  stdout: {r.out!r}\n  stderr: {r.err!r}")

    def assertExit(self, r, code):
        self.assertEqual(r.returncode, code, f"wrong exit code: {self.describe(r)}")

    def json_lines(self, r):
        lines = [line for line in r.out.split("\n") if line != ""]
        objs = []
        for line in lines:
            try:
                objs.append(json.loads(line))
            except json.JSONDecodeError as e:
                self.fail(f"stdout line is not JSON ({e}): {line!r}{self.describe(r)}")
        return objs

    def one_json(self, r):
        objs = self.json_lines(r)
        self.assertEqual(len(objs), 1, f"want exactly one JSON line: {self.describe(r)}")
        return objs[0]

    # -- liveness ------------------------------------------------------------
    def assertAlive(self, p, why=""):
        try:
            rc = p.wait(timeout=ALIVE_GRACE)
        except subprocess.TimeoutExpired:
            return
        self.fail(f"pid {p.pid} should be alive but ended with {rc} "
                  f"({_rc_text(rc)}) {why}")

    def assertDiedOf(self, p, sig, why=""):
        try:
            rc = p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail(f"pid {p.pid} should have died of {signal.Signals(sig).name} "
                      f"but is still alive {why}")
        self.assertEqual(rc, -sig, f"pid {p.pid} ended with {_rc_text(rc)}, "
                                   f"wanted death by {signal.Signals(sig).name} {why}")


def _rc_text(rc):
    if rc is None:
        return "running"
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit {rc}"
