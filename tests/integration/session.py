"""The integration tests' per-run world: cgroups, directories and install records.

Everything lives under a per-run cgroup ``<cgroup2 mount>/banger-test-<pid>/``
(and its twin in a v1 name=systemd hierarchy, when a test uses one) and a
per-run directory ``/tmp/banger-it-XXXX/``; both are removed at exit, also
after failures or meson's SIGTERM (harness.main()).
"""

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

from banger_test import cgroups


def find_cgroup_mounts():
    """Return (cgroup2 mountpoint or None, v1 name=systemd mountpoint or None).

    Only mounts whose root is "/" are used: otherwise the paths we create would
    not be the paths the kernel reports in /proc/<pid>/cgroup.
    """
    v2, v1 = cgroups.cgroup2_mount(), cgroups.v1_systemd_mount()
    return (v2.point if v2 and v2.root == "/" else None), (v1.point if v1 else None)


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
    """The one Session of this test process, made on first use."""
    global _SESSION
    if _SESSION is None:
        _SESSION = Session()
    return _SESSION


def close_session():
    if _SESSION is not None:
        _SESSION.close()
