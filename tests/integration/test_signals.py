#!/usr/bin/env python3
"""Signal names: the allowlist, its spellings, and everything refused (exit 5)."""

import signal

from banger_test import procfs
from banger_test.codes import OK, SIGNAL_REFUSED
import harness

REFUSED = [
    "STOP", "CONT", "TSTP", "SIGSTOP", "TTIN", "TTOU", "SEGV", "PIPE", "ALRM", "CHLD",
    "9", "15", "0", "-9", "+15", "RTMIN", "RTMIN+1", "SIGRTMIN+1", "SIGRTMAX", "RTMAX-1",
    "SIGSIGTERM", "SIG SIGTERM", " TERM", "TERM ", "\tTERM", "TE RM", "", "SIG", "sig",
    "sigstop", "KILL\n", "TERM\0", "SIGTERM2", "TERMINATE", "IOT", "CLD", "POLL",
    "\u0130NT",  # dotted capital I: lower()-folding must not turn it into INT
    "\u017fIGTERM",  # long s folds to S in some case-insensitive compares
]

ACCEPTED = [
    ("TERM", signal.SIGTERM), ("term", signal.SIGTERM), ("SIGTERM", signal.SIGTERM),
    ("sigTerm", signal.SIGTERM), ("KILL", signal.SIGKILL), ("kill", signal.SIGKILL),
    ("SIGKILL", signal.SIGKILL), ("INT", signal.SIGINT), ("sigint", signal.SIGINT),
    ("HUP", signal.SIGHUP), ("SigHup", signal.SIGHUP), ("QUIT", signal.SIGQUIT),
    ("USR1", signal.SIGUSR1), ("usr1", signal.SIGUSR1), ("SIGUSR2", signal.SIGUSR2),
    ("ABRT", signal.SIGABRT), ("sigabrt", signal.SIGABRT),
]


def arg_for(value):
    # "--signal=-9": a value that starts with '-' must not be read as an option.
    return [f"--signal={value}"] if value.startswith("-") or value.startswith("+") \
        else ["--signal", value]


class Refused(harness.BangerTestCase):

    def test_refused_names(self):
        for name in REFUSED:
            if "\0" in name:
                continue  # argv cannot carry NUL; kept in the list as documentation
            with self.subTest(signal=name):
                vm = self.vm()
                r = self.run_bs("--pid", vm.pid, *arg_for(name))
                self.assertExit(r, SIGNAL_REFUSED)
                self.assertAlive(vm, f"after --signal {name!r}")
                vm.kill()
                vm.wait()

    def test_refused_signal_json_one_object_per_pid(self):
        a, b = self.vm(), self.vm(cgroup=self.s.nested)
        r = self.run_bs("--pid", a.pid, "--pid", b.pid, "--signal", "STOP", "--json")
        self.assertExit(r, SIGNAL_REFUSED)
        objs = self.json_lines(r)
        self.assertEqual([o["pid"] for o in objs], [a.pid, b.pid])
        for o in objs:
            self.assertEqual(o["code"], SIGNAL_REFUSED)
            self.assertEqual(o["outcome"], "signal-refused")
        self.assertAlive(a)
        self.assertAlive(b)

    def test_stop_is_not_delivered(self):
        # Even a process that would be accepted must not be stopped.
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--signal", "SIGSTOP")
        self.assertExit(r, SIGNAL_REFUSED)
        self.assertAlive(vm)
        self.assertNotIn(procfs.proc_state(vm.pid), ("T", "t"))


class Accepted(harness.BangerTestCase):

    def test_accepted_spellings(self):
        for name, sig in ACCEPTED:
            with self.subTest(signal=name):
                vm = self.vm()
                r = self.run_bs("--pid", vm.pid, "--signal", name, "--json")
                self.assertExit(r, OK)
                obj = self.one_json(r)
                self.assertEqual(obj["signal"], sig.name[3:])
                self.assertDiedOf(vm, sig, f"after --signal {name!r}")

    def test_equals_form(self):
        vm = self.vm()
        r = self.run_bs("--pid", vm.pid, "--signal=usr2")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGUSR2)

    def test_default_is_term_not_kill(self):
        # TERM is ignored by this stand-in: the default must leave it alive.
        vm = self.vm(env={"STANDIN_IGNORE_TERM": "1"})
        r = self.run_bs("--pid", vm.pid)
        self.assertExit(r, OK)
        self.assertAlive(vm, "TERM is ignored; anything else got through")
        r = self.run_bs("--pid", vm.pid, "--signal", "kill")
        self.assertExit(r, OK)
        self.assertDiedOf(vm, signal.SIGKILL)


if __name__ == "__main__":
    harness.main()
