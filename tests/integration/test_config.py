#!/usr/bin/env python3
"""The config file (exit 8 when insecure or invalid), the helper user (8 when missing) and
who may call (exit 7)."""

import os
import re
import signal
import subprocess

from banger_test import helper_user
from banger_test.codes import CONFIG_ERROR, NOT_AUTHORIZED, NOT_MANAGED, OK
import harness
from harness import NOBODY, NOBODY_PREFIX


class InsecureOrInvalid(harness.BangerTestCase):

    def _config_error(self, config, timeout=harness.RUN_TIMEOUT):
        vm = self.vm()
        try:
            r = self.run_bs("--pid", vm.pid, config=config, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail(f"banger-signal hung on config {config!r}")
        self.assertExit(r, CONFIG_ERROR)
        self.assertNotEqual(r.err, "", "a config error says why")
        self.assertAlive(vm)
        r = self.run_bs("--pid", vm.pid, "--json", config=config, timeout=timeout)
        self.assertExit(r, CONFIG_ERROR)
        obj = self.one_json(r)
        self.assertEqual(obj["code"], CONFIG_ERROR)
        self.assertEqual(obj["outcome"], "config-error")
        self.assertAlive(vm)
        return obj["reason"]

    def good_text(self):
        return (f'runtime_dir = "{self.s.runtime_dir}"\n'
                f'service_cgroup = "{self.s.service}"\n')

    # -- the file itself -------------------------------------------------------
    def test_group_writable(self):
        self._config_error(self.s.write_config(self.good_text(), mode=0o664))

    def test_group_writable_only(self):
        self._config_error(self.s.write_config(self.good_text(), mode=0o620))

    def test_world_writable(self):
        self._config_error(self.s.write_config(self.good_text(), mode=0o646))

    def test_not_owned_by_root(self):
        self._config_error(self.s.write_config(self.good_text(), uid=NOBODY))

    def test_symlink_to_good_config(self):
        link = os.path.join(self.s.fresh_dir("link-"), "install.toml")
        os.symlink(self.s.config, link)
        self._config_error(link)

    def test_directory(self):
        self._config_error(self.s.fresh_dir("cfgdir-"))

    def test_fifo_does_not_hang(self):
        fifo = os.path.join(self.s.fresh_dir("fifo-"), "install.toml")
        os.mkfifo(fifo, 0o644)
        self._config_error(fifo, timeout=10)

    def test_missing_explicit_file(self):
        self._config_error(os.path.join(self.s.tmp, "does-not-exist.toml"))

    # -- its content -------------------------------------------------------------
    def test_invalid_toml(self):
        for text in ("runtime_dir = \n", "[[[", "runtime_dir = '/run/banger\n",
                     f'{self.good_text()}runtime_dir = "{self.s.runtime_dir}"\n',  # duplicate key
                     b"\xff\xfe\x00garbage"):
            with self.subTest(text=text):
                self._config_error(self.s.write_config(text))

    def _bad_value(self, key, toml_value):
        other = "service_cgroup" if key == "runtime_dir" else "runtime_dir"
        other_value = self.s.service if other == "service_cgroup" else self.s.runtime_dir
        text = f'{key} = {toml_value}\n{other} = "{other_value}"\n'
        with self.subTest(key=key, value=toml_value):
            self._config_error(self.s.write_config(text))

    def test_bad_runtime_dir(self):
        rt = self.s.runtime_dir
        for value in ('"run/banger"', f'"{rt}/../banger"', f'"{rt.replace("/run/", "//run/")}"',
                      f'"{rt}/"', '"/"', '""', f'"{rt}/./x"', f'"{rt}\\u0000x"',
                      "5", "true", f'["{rt}"]', "{ path = \"/run/banger\" }"):
            self._bad_value("runtime_dir", value)

    def test_bad_service_cgroup(self):
        svc = self.s.service
        for value in ('"system.slice/bangerd-root.service"', f'"{svc}/../bangerd-root.service"',
                      f'"/{svc}"', f'"{svc.replace("/system.slice", "/system.slice/")}"',
                      f'"{svc}/"', '"/"', '""', f'"{svc}/."', f'"{svc}\\u0000x"',
                      "5", "false", f'["{svc}"]', "1979-05-27"):
            self._bad_value("service_cgroup", value)

    # -- its directories (issue 12) -------------------------------------------
    # Whoever may write a directory above the file may rename the file away and put their
    # own in its place: the directories must be root's and not writable by group or
    # others, sticky ones (like /tmp) excepted.
    def config_below(self, *modes):
        """A good install record in nested fresh directories with these modes (outermost
        first); returns (its path, the directories)."""
        dirs = [self.s.fresh_dir("cfgtree-")]
        for _ in modes[1:]:
            dirs.append(os.path.join(dirs[-1], "d"))
            os.mkdir(dirs[-1])
        for d, mode in zip(dirs, modes):
            os.chmod(d, mode)
        path = os.path.join(dirs[-1], "install.toml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, self.good_text().encode())
        os.fchmod(fd, 0o644)
        os.close(fd)
        return path, dirs

    def test_directory_writable_by_others(self):
        config, dirs = self.config_below(0o777)
        reason = self._config_error(config)
        self.assertIn(f"{dirs[0]} is writable by group or others", reason)

    def test_directory_writable_by_group(self):
        config, dirs = self.config_below(0o775)
        reason = self._config_error(config)
        self.assertIn(f"{dirs[0]} is writable by group or others", reason)

    def test_directory_two_levels_up_writable_by_others(self):
        config, dirs = self.config_below(0o777, 0o755)
        reason = self._config_error(config)
        self.assertIn(f"{dirs[0]} is writable by group or others", reason)

    def test_directory_owned_by_another_user(self):
        config, dirs = self.config_below(0o755)
        os.chown(dirs[0], NOBODY, NOBODY)
        reason = self._config_error(config)
        self.assertIn(f"{dirs[0]} is owned by uid {NOBODY}", reason)

    def test_sticky_world_writable_directory_accepted(self):
        # The config_dir itself is below /tmp (sticky, world-writable): accepted as well.
        config, _ = self.config_below(0o1777)
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)

    def test_relative_path(self):
        # The helper works from "/", where this path names the good config: refused all
        # the same (whose directories would a relative path have?).
        relative = os.path.relpath(self.s.config, "/")
        self.assertTrue(os.path.isfile(os.path.join("/", relative)))
        reason = self._config_error(relative)
        self.assertIn("not an absolute path", reason)

    def test_path_through_a_symlinked_directory_is_refused(self):
        # The record is opened one component at a time with O_NOFOLLOW: a symlink on its
        # path is refused as such, even one leading to good directories (whoever may
        # replace the link chooses the directory).
        config, dirs = self.config_below(0o755)
        link = os.path.join(self.s.fresh_dir("cfglink-"), "etc")
        os.symlink(dirs[0], link)
        reason = self._config_error(os.path.join(link, "install.toml"))
        self.assertIn(f"{link} is a symbolic link or not a directory", reason)
        vm = self.vm()
        self.assertExit(self.run_bs("--pid", vm.pid, config=config), OK)   # the real path works
        self.assertDiedOf(vm, signal.SIGTERM)

    # -- what is fine ------------------------------------------------------------
    def test_unknown_keys_ignored(self):
        text = ("# banger install record\n"
                'version = "1.2.3"\n'
                f"{self.good_text()}"
                "uid = 1000\n"
                "[network]\n"
                'bridge = "banger0"\n'
                "[paths]\n"
                'runtime_dir = "relative/is/fine/here"\n')
        config = self.s.write_config(text)
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)
        p = self.runtime_sock()
        fc = self.firecracker("--api-sock", p, cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, config=config)
        self.assertExit(r, OK)
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_empty_file_means_defaults(self):
        # Default service_cgroup (/system.slice/bangerd-root.service) is not ours.
        config = self.s.write_config("")
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(vm)
        # Default runtime_dir (/run/banger) does not hold our socket either.
        fc = self.firecracker("--api-sock", self.runtime_sock(), cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, config=config)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_group_owned_by_other_but_not_writable(self):
        config = self.s.write_config(self.good_text(), gid=NOBODY, mode=0o644)
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, config=config)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)


class HelperUserMissing(harness.BangerTestCase):
    """Without the system user it works as, the helper refuses to work (8) and says how
    to create it. The user is removed only from a copy of /etc/passwd, bound over it in a
    mount namespace of the call's own (never the host's /etc)."""

    def setUp(self):
        super().setUp()
        self.user = helper_user.name()
        with open("/etc/passwd", encoding="utf-8") as f:
            kept = [ln for ln in f if ln.split(":", 1)[0] != self.user]
        copy = os.path.join(self.s.fresh_dir("passwd-"), "passwd")
        with open(copy, "w", encoding="utf-8") as f:
            f.writelines(kept)
        os.chmod(copy, 0o644)
        # Under helper_user.ensure() /etc/passwd is itself a bind of a removed copy, on
        # which nothing can be mounted: that one is unmounted first (in there only).
        self.without_user = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                             'umount /etc/passwd 2>/dev/null; '
                             'mount --bind "$0" /etc/passwd && exec "$@"', copy]
        # The premise: in there, the user does not exist.
        r = subprocess.run([*self.without_user, "getent", "passwd", self.user],
                           capture_output=True, text=True, check=False)
        self.assertEqual(r.returncode, 2, f"{self.user} still there: {r.stdout}{r.stderr}")

    def test_refuses_to_signal(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, prefix=self.without_user)
        self.assertExit(r, CONFIG_ERROR)
        self.assertAlive(vm)
        self.assertIn(f"'{self.user}'", r.err)
        self.assertIn("does not exist", r.err)
        self.assertIn("systemd-sysusers", r.err)
        self.assertIn(f"useradd --system {self.user}", r.err)
        r = self.run_bs("--pid", vm.pid, "--json", prefix=self.without_user)
        self.assertExit(r, CONFIG_ERROR)
        self.assertEqual(self.one_json(r)["outcome"], "config-error")
        self.assertAlive(vm)

    def test_refuses_to_list(self):
        self.vm()
        r = self.run_bs("--list", "--json", prefix=self.without_user)
        self.assertExit(r, CONFIG_ERROR)
        self.assertEqual(r.out, "")

    def test_doctor_fails(self):
        r = self.run_bs("--doctor", config=None, prefix=self.without_user)
        self.assertExit(r, CONFIG_ERROR)
        m = re.search(r"^FAIL  helper user: (.*)\n      fix: (.*)$", r.out, re.M)
        self.assertIsNotNone(m, self.describe(r))
        self.assertIn(self.user, m[1])
        self.assertIn("systemd-sysusers", m[2])
        # The control: with the user, the same line is OK.
        r = self.run_bs("--doctor", config=None)
        self.assertRegex(r.out, rf"(?m)^OK    helper user: .*'{re.escape(self.user)}'")


class Authorization(harness.BangerTestCase):

    def setUp(self):
        super().setUp()
        self.skip_unless_nobody_can_execute()

    def _not_authorized(self, **kw):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, **kw)
        self.assertExit(r, NOT_AUTHORIZED)
        self.assertNotEqual(r.err, "")
        self.assertAlive(vm)
        r = self.run_bs("--pid", vm.pid, "--json", **kw)
        self.assertExit(r, NOT_AUTHORIZED)
        obj = self.one_json(r)
        self.assertEqual(obj["code"], NOT_AUTHORIZED)
        self.assertEqual(obj["outcome"], "not-authorized")
        self.assertAlive(vm)

    def test_non_root_without_config(self):
        self._not_authorized(prefix=NOBODY_PREFIX, config=None)

    def test_non_root_with_config(self):
        self._not_authorized(prefix=NOBODY_PREFIX)

    def test_config_with_real_uid_not_root(self):
        # Effective uid 0, real uid nobody: --config is still not honoured.
        self._not_authorized(prefix=["setpriv", f"--ruid={NOBODY}"])

    def test_config_through_pkexec(self):
        for value in ("0", "1000"):
            with self.subTest(PKEXEC_UID=value):
                self._not_authorized(env={"PKEXEC_UID": value})

    def test_help_works_for_anyone(self):
        r = self.run_bs("--help", prefix=NOBODY_PREFIX, config=None)
        self.assertExit(r, OK)
        self.assertIn("--pid", r.out)


if __name__ == "__main__":
    harness.main()
