#!/usr/bin/env python3
"""Operations: --kill-after, --wait and --list against real stand-ins.

The stand-ins tell us which signal arrived: STANDIN_IGNORE_TERM=1 survives TERM,
so only a KILL (the escalation) can end it; a plain stand-in dies of TERM, and
its exit status says TERM, never KILL. Timings below are behaviour ("one
deadline for all", "KILL not before the deadline"), with generous margins.
"""

import os
import signal
import subprocess
import textwrap
import time

from banger_test import procfs
from banger_test.codes import NOT_AUTHORIZED, NOT_MANAGED, OK, STILL_RUNNING, USAGE
import harness

NOBODY = 65534
NOBODY_PREFIX = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]

IGNORE_TERM = {"STANDIN_IGNORE_TERM": "1"}

# SECONDS the contract refuses: sign, exponent, hex, above 3600, empty,
# whitespace, more than three decimals, leading zero, and a few more shapes.
MALFORMED_SECONDS = [
    "-1", "1e3", "0x1", "3601", "", " 1", "1 ", "1.2345", "01", "00", "-0", "+1", "1.",
    ".5", "1,5", "inf", "nan", "1s", "3600.001", "99999", "\uff11", "\u0663",
]
# ... and some it accepts (checked against a target that exits at once).
WELL_FORMED_SECONDS = ["3600", "5", "0.5", "1.25", "2.125", "10.0"]

LIST_KEYS = {"pid", "match", "exe", "cgroup", "api_sock", "start_time"}


def seconds_args(option, value):
    """--opt=VALUE always; --opt VALUE too when VALUE cannot read as an option."""
    forms = [[f"{option}={value}"]]
    if value and not value.startswith("-"):
        forms.append([option, value])
    return forms


class OperationsTestCase(harness.BangerTestCase):

    def assertMalformedSecondsRefused(self, option):
        """Every malformed SECONDS, in each spelling, is a usage error and signals nothing."""
        for value in MALFORMED_SECONDS:
            for form in seconds_args(option, value):
                with self.subTest(argv=form):
                    vm = self.vm()
                    r = self.run_bs("--pid", vm.pid, *form, "--json")
                    self.assertExit(r, USAGE)
                    self.assertEqual(r.out, "", "usage errors print no JSON")
                    self.assertAlive(vm, f"signalled despite {form!r}")
                    vm.kill()
                    vm.wait()

    def timed_bs(self, *args, **kw):
        t0 = time.monotonic()
        r = self.run_bs(*args, **kw)
        r.elapsed = time.monotonic() - t0
        return r

    def start_bs(self, *args):
        """banger-signal in the background (root, test config): for looking in meanwhile."""
        argv = [self.bin, "--config", self.s.config, *[str(a) for a in args]]
        p = subprocess.Popen(argv, env={"PATH": harness.CLEAN_PATH, "LANG": "C"},
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.addCleanup(self._reap, p)
        return p

    @staticmethod
    def _reap(p):
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)

    def finish_bs(self, p):
        out, err = p.communicate(timeout=harness.RUN_TIMEOUT)
        r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        r.out, r.err, r.argv = out.decode(errors="replace"), err.decode(errors="replace"), p.args
        return r


class KillAfter(OperationsTestCase):

    def test_term_ignored_escalates_to_kill(self):
        vm = self.vm(env=IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--kill-after", "1", "--json")
        # Well before the deadline the target has had TERM only: still alive.
        time.sleep(0.4)
        self.assertIsNone(vm.poll(), "the target died before the --kill-after deadline")
        self.assertIsNone(p.poll(), "banger-signal returned before the --kill-after deadline")
        r = self.finish_bs(p)
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGKILL)
        obj = self.one_json(r)
        self.assertEqual((obj["pid"], obj["code"], obj["outcome"]), (vm.pid, OK, "delivered"))
        self.assertEqual(obj["signal"], "TERM", "the signal asked for, not the escalation")
        self.assertIs(obj["escalated"], True)
        self.assertIn("escalated to KILL", obj["reason"])
        self.assertEqual(r.err, "")

    def test_term_obeyed_no_kill(self):
        vm = self.vm()
        r = self.timed_bs("--pid", vm.pid, "--kill-after", "5", "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM, "(a KILL was sent although TERM sufficed?)")
        obj = self.one_json(r)
        self.assertIs(obj["escalated"], False)
        self.assertNotIn("KILL", obj["reason"])
        # "wait up to": an exited target ends the wait, the deadline is not sat out.
        self.assertLess(r.elapsed, 3.0, f"waited {r.elapsed:.2f} s for a target that exited")

    def test_human_output_quiet_on_success(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", vm.pid, "--kill-after", "0.2")
        self.assertExit(r, OK)
        self.assertEqual((r.out, r.err), ("", ""))
        self.assertDiedOf(vm, signal.SIGKILL)

    def test_one_deadline_for_several_pids(self):
        vms = [self.vm(env=IGNORE_TERM) for _ in range(3)]
        r = self.timed_bs(*[a for vm in vms for a in ("--pid", vm.pid)],
                          "--kill-after", "1", "--json")
        self.assertExit(r, OK)
        for vm in vms:
            self.assertDiedOf(vm, signal.SIGKILL)
        objs = self.json_lines(r)
        self.assertEqual([o["pid"] for o in objs], [vm.pid for vm in vms])
        self.assertEqual([o["escalated"] for o in objs], [True, True, True])
        self.assertGreaterEqual(r.elapsed, 1.0, "KILL before the deadline")
        # One deadline for all: 3 pids x 1 s in sequence would take >= 3 s.
        self.assertLess(r.elapsed, 2.5, f"took {r.elapsed:.2f} s: a deadline per pid?")

    def test_mixed_targets_escalate_only_the_stubborn(self):
        stubborn, obedient = self.vm(env=IGNORE_TERM), self.vm(cgroup=self.s.nested)
        r = self.run_bs("--pid", stubborn.pid, "--pid", obedient.pid, "--kill-after", "0.5",
                        "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(stubborn, signal.SIGKILL)
        self.assertDiedOf(obedient, signal.SIGTERM)
        objs = self.json_lines(r)
        self.assertEqual([(o["pid"], o["escalated"]) for o in objs],
                         [(stubborn.pid, True), (obedient.pid, False)])

    def test_refused_target_is_never_escalated(self):
        # The escalation applies to delivered pids only: a refused one gets nothing,
        # not even after the deadline.
        foreign = self.vm(cgroup=self.s.foreign, env=IGNORE_TERM)
        good = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", foreign.pid, "--pid", good.pid, "--kill-after", "0.3",
                        "--json")
        self.assertExit(r, NOT_MANAGED)
        self.assertAlive(foreign, "a refused target was signalled by the escalation")
        self.assertDiedOf(good, signal.SIGKILL)
        f, g = self.json_lines(r)
        self.assertEqual((f["pid"], f["code"], f["escalated"]), (foreign.pid, NOT_MANAGED, False))
        self.assertEqual((g["pid"], g["code"], g["escalated"]), (good.pid, OK, True))

    def test_dry_run_does_not_escalate(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", vm.pid, "--kill-after", "0.2", "--dry-run", "--json")
        self.assertExit(r, OK)
        self.assertAlive(vm, "--dry-run --kill-after signalled")
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "would-deliver")
        self.assertIs(obj["escalated"], False)

    def test_malformed_seconds(self):
        self.assertMalformedSecondsRefused("--kill-after")


class Wait(OperationsTestCase):

    def test_still_running_gives_10_and_leaves_it_alive(self):
        vm = self.vm(env=IGNORE_TERM)
        r = self.timed_bs("--pid", vm.pid, "--wait", "0.5", "--json")
        self.assertExit(r, STILL_RUNNING)
        self.assertAlive(vm, "--wait must never escalate")
        obj = self.one_json(r)
        self.assertEqual((obj["pid"], obj["code"], obj["outcome"]),
                         (vm.pid, STILL_RUNNING, "still-running"))
        self.assertIs(obj["escalated"], False)
        self.assertGreaterEqual(r.elapsed, 0.5)
        self.assertTrue(r.err.startswith(f"banger-signal: pid {vm.pid}: "), r.err)
        vm.kill()
        vm.wait()

    def test_exited_gives_0(self):
        vm = self.vm()
        r = self.timed_bs("--pid", vm.pid, "--wait", "5", "--json")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGTERM)
        obj = self.one_json(r)
        self.assertEqual(obj["outcome"], "delivered")
        self.assertIs(obj["escalated"], False)
        self.assertLess(r.elapsed, 3.0, f"waited {r.elapsed:.2f} s for a target that exited")

    def test_exit_after_a_while_is_seen(self):
        # TERM is ignored; we end the target ourselves mid-wait: banger-signal must
        # notice the exit (pidfd), not sit out the deadline.
        vm = self.vm(env=IGNORE_TERM)
        p = self.start_bs("--pid", vm.pid, "--wait", "10")
        time.sleep(0.5)
        self.assertIsNone(p.poll(), "returned although the target is still running")
        t0 = time.monotonic()
        vm.kill()
        r = self.finish_bs(p)
        self.assertExit(r, OK)
        self.assertLess(time.monotonic() - t0, 3.0)

    def test_one_deadline_for_several_pids(self):
        vms = [self.vm(env=IGNORE_TERM) for _ in range(3)]
        r = self.timed_bs(*[a for vm in vms for a in ("--pid", vm.pid)], "--wait", "1",
                          "--json")
        self.assertExit(r, STILL_RUNNING)
        for vm in vms:
            self.assertAlive(vm)
        self.assertEqual([(o["pid"], o["code"]) for o in self.json_lines(r)],
                         [(vm.pid, STILL_RUNNING) for vm in vms])
        self.assertLess(r.elapsed, 2.5, f"took {r.elapsed:.2f} s: a deadline per pid?")

    def test_mixed_targets(self):
        obedient, stubborn = self.vm(), self.vm(env=IGNORE_TERM)
        r = self.run_bs("--pid", obedient.pid, "--pid", stubborn.pid, "--wait", "0.5", "--json")
        self.assertExit(r, STILL_RUNNING)
        self.assertDiedOf(obedient, signal.SIGTERM)
        self.assertAlive(stubborn)
        self.assertEqual([(o["pid"], o["code"]) for o in self.json_lines(r)],
                         [(obedient.pid, OK), (stubborn.pid, STILL_RUNNING)])

    def test_malformed_seconds(self):
        self.assertMalformedSecondsRefused("--wait")

    def test_well_formed_seconds(self):
        for value in WELL_FORMED_SECONDS:
            with self.subTest(seconds=value):
                vm = self.vm()
                r = self.run_bs("--pid", vm.pid, "--wait", value)
                self.assertExit(r, OK)
                self.assertDiedOf(vm, signal.SIGTERM)

    def test_wait_and_kill_after_exclude_each_other(self):
        vm = self.vm()
        for args in (["--wait", "1", "--kill-after", "1"], ["--kill-after=1", "--wait=1"]):
            with self.subTest(args=args):
                r = self.run_bs("--pid", vm.pid, *args, "--json")
                self.assertExit(r, USAGE)
                self.assertEqual(r.out, "")
                self.assertAlive(vm)


class List(OperationsTestCase):
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

    def test_combinations_are_usage_errors(self):
        vm = self.vms("service cgroup")
        for args in (["--pid", vm.pid], ["--signal", "TERM"], ["--signal", "KILL"],
                     ["--wait", "1"], ["--kill-after", "1"], ["--dry-run"]):
            with self.subTest(args=args):
                r = self.run_bs("--list", *args, "--json")
                self.assertExit(r, USAGE)
                self.assertEqual(r.out, "")
                self.assertAlive(vm)

    def test_not_root_not_authorized(self):
        check = subprocess.run([*NOBODY_PREFIX, "test", "-x", self.bin])
        if check.returncode != 0:
            self.skipTest(f"uid {NOBODY} cannot execute {self.bin}")
        for json_flag in ([], ["--json"]):
            for config in (None, "default"):
                with self.subTest(json=bool(json_flag), config=config):
                    r = self.run_bs("--list", *json_flag, prefix=NOBODY_PREFIX, config=config)
                    self.assertExit(r, NOT_AUTHORIZED)
                    self.assertEqual(r.out, "", "nothing listed to an unauthorized caller")
                    self.assertNotEqual(r.err, "")


if __name__ == "__main__":
    harness.main()
