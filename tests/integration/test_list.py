#!/usr/bin/env python3
"""--list against real stand-ins: exactly the accepted ones among decoys, read-only,
and steady while processes come and go during the scan."""

import os
import textwrap
import time

from banger_test import procfs
from banger_test.codes import NOT_AUTHORIZED, OK, USAGE
import harness
from harness import NOBODY_PREFIX

LIST_KEYS = {"pid", "match", "exe", "cgroup", "api_sock", "start_time", "door"}


class List(harness.BangerTestCase):
    """--list finds exactly the accepted stand-ins among decoys."""

    def setUp(self):
        super().setUp()
        s = self.s
        sock_sep, sock_eq, sock_short = (self.runtime_sock() for _ in range(3))
        # Accepted: by cgroup (service, nested, deeper), by each api-sock form.
        self.accepted = {}
        for label, vm in [
            ("service cgroup", self.vm()),
            ("nested cgroup", self.vm(cgroup=s.nested)),
            ("deeper cgroup", self.vm(cgroup=s.nested_deep)),
            ("--api-sock P", self.firecracker("--api-sock", sock_sep, cgroup=s.foreign)),
            ("--api-sock=P", self.firecracker(f"--api-sock={sock_eq}", cgroup=s.foreign)),
            ("-a P", self.firecracker("-a", sock_short, cgroup=s.foreign)),
        ]:
            self.accepted[vm.pid] = (label, vm)
        self.socks = {self.vms("--api-sock P").pid: sock_sep,
                      self.vms("--api-sock=P").pid: sock_eq,
                      self.vms("-a P").pid: sock_short}
        # Decoys: each gets one thing wrong.
        self.decoys = {}
        for label, proc in [
            ("foreign cgroup", self.vm(cgroup=s.foreign)),
            ("prefix-extended cgroup", self.vm(cgroup=s.prefix_extended)),
            ("service name under user.slice", self.vm(cgroup=s.spoofed)),
            ("parent slice", self.vm(cgroup=s.parent_slice)),
            ("impostor, argv[0] firecracker",
             self.spawn(["firecracker", "--api-sock", self.runtime_sock()],
                        executable=self.impostor, cgroup=s.foreign)),
            ("socket outside the runtime dir",
             self.firecracker("--api-sock", self.outside_sock(), cgroup=s.foreign)),
            ("claimed, not held",
             self.firecracker("--api-sock", self.runtime_sock(), cgroup=s.foreign,
                              env={"STANDIN_NO_BIND": "1"})),
            ("bound, not listening",
             self.firecracker("--api-sock", self.runtime_sock(), cgroup=s.foreign,
                              env={"STANDIN_NO_LISTEN": "1"})),
        ]:
            self.decoys[proc.pid] = (label, proc)

    def vms(self, label):
        return next(vm for (lb, vm) in self.accepted.values() if lb == label)

    def listed_json(self):
        r = self.run_bs("--list", "--json")
        self.assertExit(r, OK)
        return r, self.json_lines(r)

    def assertExactlyAccepted(self, pids, r):
        pids = list(pids)
        self.assertEqual(len(pids), len(set(pids)), f"a pid listed twice{self.describe(r)}")
        wrong = {p: self.decoys[p][0] for p in pids if p in self.decoys}
        self.assertEqual(wrong, {}, f"decoys listed{self.describe(r)}")
        missed = {p: lb for p, (lb, _) in self.accepted.items() if p not in pids}
        self.assertEqual(missed, {}, f"accepted stand-ins not listed{self.describe(r)}")
        self.assertEqual(set(pids), set(self.accepted), self.describe(r))

    def test_json_exact_set_fields_and_types(self):
        r, objs = self.listed_json()
        self.assertExactlyAccepted([o["pid"] for o in objs], r)
        self.assertEqual(r.err, "")
        standin = os.path.realpath(self.standin)
        for o in objs:
            label, vm = self.accepted[o["pid"]]
            with self.subTest(target=label):
                self.assertEqual(set(o), LIST_KEYS)
                self.assertEqual(o["door"], "root")
                self.assertIsInstance(o["pid"], int)
                self.assertNotIsInstance(o["pid"], bool)
                self.assertIsInstance(o["start_time"], int)
                self.assertNotIsInstance(o["start_time"], bool)
                self.assertEqual(o["start_time"], procfs.start_time(vm.pid))
                self.assertEqual(o["exe"], standin)
                self.assertEqual(o["cgroup"], procfs.proc_cgroup(vm.pid, "0"))
                if vm.pid in self.socks:
                    self.assertEqual(o["match"], "api-sock")
                    self.assertEqual(o["api_sock"], self.socks[vm.pid])
                else:
                    self.assertEqual(o["match"], "cgroup")
                    self.assertIsNone(o["api_sock"])

    def test_read_only(self):
        for _ in range(3):
            r, objs = self.listed_json()
            self.assertExactlyAccepted([o["pid"] for o in objs], r)
        for label, proc in list(self.accepted.values()) + list(self.decoys.values()):
            with self.subTest(process=label):
                self.assertAlive(proc, "--list signalled it")
                self.assertNotIn(procfs.proc_state(proc.pid), ("T", "t", "Z"))

    def test_table_lists_the_same_pids(self):
        r = self.run_bs("--list")
        self.assertExit(r, OK)
        self.assertEqual(r.err, "")
        lines = r.out.splitlines()
        self.assertGreater(len(lines), 0, self.describe(r))
        self.assertEqual(lines[0].split()[:2], ["PID", "MATCH"], self.describe(r))
        rows = [line.split() for line in lines[1:]]
        self.assertTrue(all(row and row[0].isdigit() for row in rows), self.describe(r))
        pids = [int(row[0]) for row in rows]
        self.assertExactlyAccepted(pids, r)
        for row in rows:
            pid = int(row[0])
            self.assertEqual(row[1], "api-sock" if pid in self.socks else "cgroup", row)
            self.assertIn(os.path.realpath(self.standin), row)
            if pid in self.socks:
                self.assertEqual(row[-1], self.socks[pid], row)

    def test_exited_target_not_listed(self):
        label, vm = self.accepted.popitem()[1]
        vm.kill()
        vm.wait()
        r, objs = self.listed_json()
        self.assertNotIn(vm.pid, [o["pid"] for o in objs], label)
        self.assertExactlyAccepted([o["pid"] for o in objs], r)

    def test_survives_processes_exiting_during_the_scan(self):
        # A helper starts short-lived processes until told to stop: plain sleeps, and
        # stand-ins that claim an api socket in the runtime dir without holding it
        # (so --list reads all their facts before refusing them), ended by timeout(1)
        # at any point of the scan. They live in the foreign cgroup: never accepted.
        # Every --list below runs while the churn goes on; we go on until at least
        # 10 runs are done and 300 processes have been started.
        stop = os.path.join(self.s.tmp, f"churn-stop-{os.getpid()}")
        count = os.path.join(self.s.tmp, f"churn-count-{os.getpid()}")
        script = os.path.join(self.s.tmp, "churn.sh")
        with open(script, "w") as f:
            f.write(textwrap.dedent("""\
                #!/bin/sh
                # churn STOPFILE COUNTFILE STANDIN SOCK
                n=0
                while [ ! -e "$1" ]; do
                    d=0.0$((n % 5 + 1))
                    sleep "$d" &
                    STANDIN_NO_BIND=1 timeout "$d" "$3" --api-sock "$4" >/dev/null 2>&1 &
                    n=$((n + 2))
                    if [ $((n % 20)) -eq 0 ]; then
                        wait
                        echo "$n" >"$2.tmp" && mv "$2.tmp" "$2"
                    fi
                done
                wait
                """))
        churn = self.spawn(["/bin/sh", script, stop, count, self.standin, self.runtime_sock()],
                           cgroup=self.s.foreign, wait_ready=False)

        def stop_churn():
            open(stop, "w").close()
            churn.wait(timeout=30)
        self.addCleanup(stop_churn)

        def started():
            try:
                with open(count) as f:
                    return int(f.read())
            except FileNotFoundError:
                return 0

        runs, deadline = 0, time.monotonic() + 120
        while runs < 10 or started() < 300:
            self.assertLess(time.monotonic(), deadline, f"churn too slow: {started()} started")
            with self.subTest(run=runs):
                r, objs = self.listed_json()
                self.assertExactlyAccepted([o["pid"] for o in objs], r)
            runs += 1
            self.assertIsNone(churn.poll(), "the churn helper ended early")
        stop_churn()
        self.assertEqual(churn.returncode, 0)

    def test_all_dry_run_is_exactly_the_list(self):
        # --all previews exactly what --list shows, each as it would deliver it.
        r = self.run_bs("--all", "--dry-run", "--json")
        self.assertExit(r, OK)
        objs = self.json_lines(r)
        self.assertExactlyAccepted([o["pid"] for o in objs], r)
        for o in objs:
            self.assertEqual((o["outcome"], o["dry_run"]), ("would-deliver", True), o)
        for label, proc in list(self.accepted.values()) + list(self.decoys.values()):
            with self.subTest(process=label):
                self.assertAlive(proc, "--all --dry-run signalled it")

    def test_all_signals_exactly_the_accepted(self):
        r = self.run_bs("--all", "--signal", "TERM", "--json")
        self.assertExit(r, OK)
        self.assertExactlyAccepted([o["pid"] for o in self.json_lines(r)], r)
        for label, vm in self.accepted.values():
            with self.subTest(vm=label):
                self.assertEqual(vm.wait(timeout=5), -15)
        for label, proc in self.decoys.values():
            with self.subTest(decoy=label):
                self.assertAlive(proc, "--all signalled a decoy")

    def test_combinations_are_usage_errors(self):
        vm = self.vms("service cgroup")
        for args in (["--pid", vm.pid], ["--signal", "TERM"], ["--signal", "KILL"],
                     ["--wait", "1"], ["--kill-after", "1"], ["--dry-run"]):
            with self.subTest(args=args):
                r = self.run_bs("--list", *args, "--json")
                self.assertExit(r, USAGE)
                self.assertEqual(r.out, "")
                self.assertAlive(vm)
        for args in (["--pid", vm.pid], ["--list"]):
            with self.subTest(args=["--all", *args]):
                r = self.run_bs("--all", *args, "--signal", "KILL", "--json")
                self.assertExit(r, USAGE)
                self.assertAlive(vm)

    def test_not_root_not_authorized(self):
        self.skip_unless_nobody_can_execute()
        for json_flag in ([], ["--json"]):
            for config in (None, "default"):
                with self.subTest(json=bool(json_flag), config=config):
                    r = self.run_bs("--list", *json_flag, prefix=NOBODY_PREFIX, config=config)
                    self.assertExit(r, NOT_AUTHORIZED)
                    self.assertEqual(r.out, "", "nothing listed to an unauthorized caller")
                    self.assertNotEqual(r.err, "")


if __name__ == "__main__":
    harness.main()
