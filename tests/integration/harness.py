"""The test case of the banger-signal integration tests: spawning targets, running
the binary, liveness assertions.

The tests run the real binary, as root, against real processes placed in real
cgroups. Everything they create lives in the per-run world of session.py (a
cgroup tree and a directory, removed at exit, also after failures).

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

import json
import os
import signal
import subprocess
import sys
import time
import unittest

from banger_test import codes, helper_user, procfs
from banger_test.spawn import READY_TIMEOUT, spawn
from session import close_session, find_cgroup_mounts, session

SKIP_EXIT = codes.SKIP

# How long a wrongly signalled process gets to die before we call it alive.
ALIVE_GRACE = 0.3
RUN_TIMEOUT = 30.0

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The unprivileged caller of the tests, and the wrapper that makes a command run as it.
NOBODY = 65534
NOBODY_PREFIX = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def option_forms(option, value):
    """--opt=VALUE always; --opt VALUE too unless VALUE starts with "-" (it would read
    as an option): the spellings a caller may use for one value."""
    forms = [[f"{option}={value}"]]
    if not value.startswith("-"):
        forms.append([option, value])
    return forms


def pid_args(pids):
    """--pid P1 --pid P2 ..."""
    return [a for pid in pids for a in ("--pid", pid)]


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
    helper_user.ensure()
    unittest.main(verbosity=2)


def _on_sigterm(signum, _frame):
    close_session()
    os._exit(128 + signum)


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

    def reaped_pid(self):
        """The pid of a stand-in VM that has exited and been reaped: no such process now."""
        vm = self.vm()
        vm.kill()
        vm.wait()
        return vm.pid

    def make_zombie(self, p):
        """SIGKILL our child `p` and leave it unreaped: a zombie until the test waits."""
        os.kill(p.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while procfs.proc_state(p.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(procfs.proc_state(p.pid), "Z")

    def outside_sock(self):
        """A fresh socket path outside the runtime dir (in the test's tmp dir)."""
        return os.path.join(self.s.fresh_dir("elsewhere-"), "api.sock")

    def runtime_sock(self):
        """A fresh, unique socket path strictly inside the runtime dir."""
        self.s._counter += 1
        d = os.path.join(self.s.runtime_dir, f"vm{self.s._counter}")
        os.makedirs(d)
        return os.path.join(d, "api.sock")

    def skip_unless_nobody_can_execute(self):
        """The unprivileged caller must be able to reach the binary at all."""
        if subprocess.run([*NOBODY_PREFIX, "test", "-x", self.bin]).returncode != 0:
            self.skipTest(f"uid {NOBODY} cannot execute {self.bin}")

    # -- the binary --------------------------------------------------------
    def bs_argv(self, *args, config="default", prefix=(), binary=None):
        """[PREFIX...] banger-signal [--config C] ARGS (config None: no --config)."""
        if config == "default":
            config = self.s.config
        argv = list(prefix) + [binary or self.bin]
        if config is not None:
            argv += ["--config", config]
        return argv + [str(a) for a in args]

    @staticmethod
    def bs_env(extra=None):
        """A clean environment, keeping the sanitizers' options of a sanitizer build."""
        env = {"PATH": CLEAN_PATH, "LANG": "C"}
        for keep in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "MSAN_OPTIONS"):
            if keep in os.environ:
                env[keep] = os.environ[keep]
        env.update(extra or {})
        return env

    def run_bs(self, *args, config="default", env=None, prefix=(), executable=None,
               cgroup=None, check_code=True, timeout=RUN_TIMEOUT):
        """Run banger-signal [--config C] ARGS with a clean environment.

        prefix: a wrapper command (setpriv, unshare, ...); cgroup: a v2 cgroup
        the wrapper (or the binary) is moved into before exec.
        """
        argv = self.bs_argv(*args, config=config, prefix=prefix)
        preexec = None
        if cgroup is not None:
            procs_file = self.s.v2_procs_file(cgroup)

            def preexec():
                with open(procs_file, "w") as f:
                    f.write(str(os.getpid()))
        r = subprocess.run(argv, env=self.bs_env(env), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, executable=executable, preexec_fn=preexec)
        return self._result(r, argv, check_code)

    def start_bs(self, *args, config="default", binary=None, env=None, **popen):
        """banger-signal [--config C] ARGS in the background, for looking in meanwhile;
        finish_bs() collects it. Killed at cleanup if still running."""
        argv = self.bs_argv(*args, config=config, binary=binary)
        popen.setdefault("stdin", subprocess.DEVNULL)
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(argv, env=self.bs_env(env), **popen)
        p.argv = argv

        def reap():
            if p.poll() is None:
                p.kill()
            p.communicate(timeout=30)
        self.addCleanup(reap)
        return p

    def finish_bs(self, p, check_code=True, timeout=RUN_TIMEOUT):
        """Wait for a start_bs() run; return an object like run_bs's result."""
        out, err = p.communicate(timeout=timeout)
        return self._result(subprocess.CompletedProcess(p.argv, p.returncode, out, err),
                            p.argv, check_code)

    def _result(self, r, argv, check_code):
        r.out = r.stdout.decode("utf-8", errors="replace") if r.stdout is not None else ""
        r.err = r.stderr.decode("utf-8", errors="replace") if r.stderr is not None else ""
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
