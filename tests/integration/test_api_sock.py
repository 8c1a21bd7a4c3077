#!/usr/bin/env python3
"""Acceptance by api socket (legacy, no-jailer launches) and its refusals.

Every target here sits in a cgroup that does not match, so only the api-sock
rule can accept it.
"""

import os
import shlex
import shutil
import signal
import socket

from banger_test.codes import NOT_MANAGED, OK
import harness


class ApiSockAccepted(harness.BangerTestCase):

    def _delivered(self, args, sock):
        fc = self.firecracker(*args, cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertExit(r, OK)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "delivered")
        self.assertEqual(obj["match"], "api-sock")
        self.assertEqual(obj["api_sock"], sock)
        self.assertEqual(obj["exe"], os.path.realpath(self.standin))
        self.assertDiedOf(fc, signal.SIGTERM)

    def test_form_separate(self):
        p = self.runtime_sock()
        self._delivered(["--api-sock", p], p)

    def test_form_equals(self):
        p = self.runtime_sock()
        self._delivered([f"--api-sock={p}"], p)

    def test_form_short(self):
        p = self.runtime_sock()
        self._delivered(["-a", p], p)

    def test_other_arguments_ignored(self):
        p = self.runtime_sock()
        self._delivered(["--id", "vm7", "--api-sock", p, "--config-file", "/nonexistent",
                         "--level", "Debug"], p)

    def test_fds_coming_and_going_do_not_look_like_an_exit(self):
        # Listing /proc/<pid>/fd races with the target's own open/close; a
        # link that vanished between readdir and readlink must not be taken
        # for the end of the listing, or for the process having exited.
        p = self.runtime_sock()
        fc = self.firecracker("--api-sock", p, cgroup=self.s.foreign, env={"STANDIN_CHURN_FDS": "1"})
        codes = [self.run_bs("--dry-run", "--pid", fc.pid).returncode for _ in range(60)]
        self.assertEqual(codes, [OK] * 60)
        self.assertAlive(fc)

    def test_socket_directly_in_runtime_dir(self):
        p = os.path.join(self.s.runtime_dir, f"direct-{os.getpid()}.sock")
        self._delivered(["--api-sock", p], p)


class ApiSockRefused(harness.BangerTestCase):

    def _refused(self, args, *, executable=None, argv0="firecracker", env=None,
                 cwd=None, config="default", via=None):
        if executable is None and via is None:
            fc = self.firecracker(*args, cgroup=self.s.foreign, env=env, cwd=cwd)
        else:
            fc = self.spawn([via or argv0, *args], executable=executable,
                            cgroup=self.s.foreign, env=env, cwd=cwd)
        r = self.run_bs("--pid", fc.pid, config=config)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)
        self.assertTrue(r.err.startswith(f"banger-signal: pid {fc.pid}: "), r.err)
        return fc

    # -- the exe, not argv ---------------------------------------------------
    def test_impostor_with_argv0_firecracker(self):
        p = self.runtime_sock()
        fc = self._refused(["--api-sock", p], executable=self.impostor, argv0="firecracker")
        with open(f"/proc/{fc.pid}/cmdline", "rb") as f:
            self.assertTrue(f.read().startswith(b"firecracker\0"))
        r = self.run_bs("--pid", fc.pid, "--json")
        obj = self.one_json(r)
        self.assertIsNone(obj["match"])
        self.assertEqual(obj["exe"], os.path.realpath(self.impostor))

    def test_impostor_through_symlink_named_firecracker(self):
        d = self.s.fresh_dir("symlink-")
        link = os.path.join(d, "firecracker")
        os.symlink(os.path.realpath(self.impostor), link)
        p = self.runtime_sock()
        self._refused(["--api-sock", p], via=link)

    def test_deleted_firecracker_exe(self):
        d = self.s.fresh_dir("deleted-")
        copy = os.path.join(d, "firecracker")
        shutil.copy2(self.standin, copy)
        p = self.runtime_sock()
        fc = self.spawn([copy, "--api-sock", p], cgroup=self.s.foreign)
        os.unlink(copy)
        self.assertTrue(os.readlink(f"/proc/{fc.pid}/exe").endswith(" (deleted)"))
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_terminal_controls_in_the_exe_path_are_not_echoed(self):
        # U+009B (CSI, a terminal control in UTF-8) and U+202E (right-to-left
        # override) in the exe's name: the refusal names the exe, as '?'s.
        d = self.s.fresh_dir("controls-")
        copy = os.path.join(d.encode(), b"fc\xc2\x9b2J\xe2\x80\xaeevil")
        shutil.copy2(self.standin, copy)
        fc = self.spawn([copy, "--api-sock", self.runtime_sock()], cgroup=self.s.foreign)
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertIn(b"fc??2J???evil", r.stderr)
        self.assertTrue(all(b < 0x80 for b in r.stderr), r.stderr)
        self.assertAlive(fc)

    # -- where the socket is --------------------------------------------------
    def test_socket_outside_runtime_dir(self):
        self._refused(["--api-sock", self.outside_sock()])

    def test_sibling_prefix_dir(self):
        evil = self.s.runtime_dir + "-evil"
        os.makedirs(evil, exist_ok=True)
        self._refused(["--api-sock", os.path.join(evil, f"x{os.getpid()}.sock")])

    def test_dotdot_escape(self):
        self._refused(["--api-sock", self.s.runtime_dir + f"/../escape{os.getpid()}.sock"])

    def test_dotdot_that_stays_inside_is_not_normalized(self):
        p = self.runtime_sock()
        vm_dir = os.path.dirname(p)
        self._refused(["--api-sock", f"{vm_dir}/../{os.path.basename(vm_dir)}/api.sock"])

    def test_double_slash_not_normalized(self):
        p = self.runtime_sock()
        self._refused(["--api-sock", p.replace("/api.sock", "//api.sock")])

    def test_dot_component_not_normalized(self):
        p = self.runtime_sock()
        self._refused(["--api-sock", p.replace("/api.sock", "/./api.sock")])

    def test_relative_path(self):
        vm_dir = os.path.dirname(self.runtime_sock())
        self._refused(["--api-sock", "api.sock"], cwd=vm_dir)

    def test_socket_is_the_runtime_dir_itself(self):
        # Strictly inside: P == runtime_dir is not inside it.
        rt = os.path.join(self.s.fresh_dir("rt-"), "banger")
        config = self.s.write_config(runtime_dir=rt, service_cgroup=self.s.service)
        self._refused(["--api-sock", rt], config=config)

    # -- holding the socket -----------------------------------------------------
    def test_claimed_socket_held_by_another_process(self):
        p = self.runtime_sock()
        holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(p)
        holder.listen(1)
        self._refused(["--api-sock", p], env={"STANDIN_NO_BIND": "1"})

    def test_claimed_socket_held_by_nobody(self):
        p = self.runtime_sock()
        self._refused(["--api-sock", p], env={"STANDIN_NO_BIND": "1"})
        self.assertFalse(os.path.exists(p))

    def test_claimed_socket_stale_file(self):
        p = self.runtime_sock()
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(p)
        stale.listen(1)
        stale.close()
        self.assertTrue(os.path.exists(p))
        self._refused(["--api-sock", p], env={"STANDIN_NO_BIND": "1"})

    def test_claimed_socket_bound_but_not_listening(self):
        p = self.runtime_sock()
        self._refused(["--api-sock", p], env={"STANDIN_NO_LISTEN": "1"})

    def test_holds_another_socket_than_claimed(self):
        claimed, held = self.runtime_sock(), self.runtime_sock()
        self._refused(["--api-sock", claimed], env={"STANDIN_BIND_PATH": held})

    # -- where the proof of holding comes from ----------------------------------------
    @staticmethod
    def _net_unix_claims(pid, path):
        """Lines of the target's /proc/<pid>/net/unix that end in " <path>"."""
        with open(f"/proc/{pid}/net/unix", encoding="utf-8", errors="replace") as f:
            return [ln for ln in f.read().split("\n") if ln.endswith(" " + path)]

    def test_forged_net_unix_line_in_an_abstract_name(self):
        # Anyone can bind an abstract socket, and its name is printed raw in
        # /proc/net/unix: "x\n<a whole line listening at P with our inode>".
        p = self.runtime_sock()
        fc = self._refused(["--api-sock", p], env={"STANDIN_FORGE_NET_UNIX": "1"})
        self.assertTrue(self._net_unix_claims(fc.pid, p), "the forgery did not show up")
        self.assertFalse(os.path.exists(p))

    def _in_private_mount_ns(self, p, env=None):
        """A stand-in that binds and listens at p, on a tmpfs only its own mount
        namespace sees (what an unprivileged user gets with unshare -Urm)."""
        script = (f"mount -t tmpfs banger-test {shlex.quote(os.path.dirname(p))} && "
                  f"exec {shlex.quote(self.standin)} --api-sock {shlex.quote(p)}")
        return self.spawn(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          cgroup=self.s.foreign, env=env)

    def test_socket_bound_in_a_private_mount_namespace(self):
        p = self.runtime_sock()
        fc = self._in_private_mount_ns(p)
        self.assertTrue(self._net_unix_claims(fc.pid, p))
        self.assertFalse(os.path.exists(p))   # not in our view of the runtime dir
        r = self.run_bs("--pid", fc.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fc)

    def test_private_namespace_socket_shadowing_a_real_vm(self):
        p = self.runtime_sock()
        real = self.firecracker("--api-sock", p, cgroup=self.s.foreign)
        fake = self._in_private_mount_ns(p)
        self.assertTrue(self._net_unix_claims(fake.pid, p))
        r = self.run_bs("--pid", fake.pid)
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(fake)
        r = self.run_bs("--dry-run", "--pid", real.pid, "--json")
        self.assertExit(r, OK)
        self.assertEqual(self.one_json(r)["match"], "api-sock")

    def test_symlinked_directory_below_runtime_dir(self):
        # A link inside runtime_dir to a directory anyone may write: the socket
        # bound "at" runtime_dir/link/x.sock really lives outside.
        outside = self.s.fresh_dir("world-")
        os.chmod(outside, 0o1777)
        link = os.path.join(self.s.runtime_dir, f"link{os.getpid()}")
        os.symlink(outside, link)
        self.addCleanup(os.unlink, link)
        p = os.path.join(link, "x.sock")
        fc = self._refused(["--api-sock", p])
        self.assertTrue(os.path.exists(os.path.join(outside, "x.sock")))
        r = self.run_bs("--pid", fc.pid, "--json")
        self.assertIn("symlink", self.one_json(r)["reason"])

    def test_glued_short_flag_is_not_a_form(self):
        p = self.runtime_sock()
        self._refused([f"-a{p}"], env={"STANDIN_BIND_PATH": p})

    def test_flag_without_value(self):
        p = self.runtime_sock()
        self._refused(["--api-sock"], env={"STANDIN_BIND_PATH": p})

    # -- exactly one flag ----------------------------------------------------------
    def test_two_flags_different_paths(self):
        p1, p2 = self.runtime_sock(), self.runtime_sock()
        self._refused(["--api-sock", p1, "-a", p2])

    def test_two_flags_same_path(self):
        p = self.runtime_sock()
        self._refused(["--api-sock", p, f"--api-sock={p}"])


if __name__ == "__main__":
    harness.main()
