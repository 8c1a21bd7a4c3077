"""Runs one PID-reuse scenario inside a private PID namespace.

Started by test_pid_reuse.py as
    unshare --pid --fork --mount-proc --kill-child python3 pidns_driver.py PARAMS_JSON
so that it is pid 1 of a fresh namespace: pids are small, nothing else forks
there, and /proc/sys/kernel/ns_last_pid (which applies to the writer's own
namespace) chooses the next pid. Cgroups are not namespaced: the test creates
them outside and passes their cgroup.procs files; a pid written there is read
in the writer's namespace, which is ours.

Prints one JSON object (the facts; the test judges them) as its last line.
When this process exits, the kernel kills everything left in the namespace.
"""

import json
import os
import signal
import subprocess
import sys
import time

# Only helpers without side effects: no harness session is created here.
from adversarial import VICTIM_SOURCE, Pause, mask_signals, pending_signals, read_status
from banger_test import procfs
from banger_test.spawn import spawn as spawn_ready

GRACE = 0.3


def spawn(argv, procs_file):
    """Start argv in the cgroup of procs_file; wait for "ready\\n"."""
    return spawn_ready(argv, join=[procs_file], env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def spawn_at(pid, argv, procs_file):
    """Start argv so that it gets exactly `pid` (ns_last_pid = pid - 1)."""
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    p = spawn(argv, procs_file)
    if p.pid != pid:
        p.kill()
        p.wait()
        raise RuntimeError(f"wanted pid {pid}, got {p.pid}")
    return p


def kill_and_reap(p):
    p.kill()
    p.wait()
    if procfs.pid_exists(p.pid):
        raise RuntimeError(f"pid {p.pid} still exists after reaping")


def facts_about(victim):
    """What the victim went through: alive? state? pending signals?"""
    time.sleep(GRACE)  # a wrongly sent KILL gets time to land
    alive = victim.poll() is None
    status = read_status(victim.pid) if alive else None
    return {
        "alive": alive,
        "returncode": victim.returncode,
        "state": status["State"] if status else None,
        "blocked": sorted(mask_signals(status["SigBlk"])) if status else [],
        "pending": sorted(pending_signals(victim.pid)) if alive else [],
    }


def detector_control(victim):
    """Send the victim USR1 ourselves: the check above must be able to see it."""
    os.kill(victim.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 5
    while signal.SIGUSR1 not in pending_signals(victim.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return sorted(pending_signals(victim.pid))


def run_binary(argv, env_extra=None, timeout=30):
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    env.update(env_extra or {})
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    return {"rc": r.returncode, "out": r.stdout.decode(errors="replace"),
            "err": r.stderr.decode(errors="replace")}


def scenario(params):
    """Pin one process, swap it for another with the same pid, resume."""
    victim_argv = [sys.executable, "-c", VICTIM_SOURCE]
    standin_argv = [params["standin"]]
    if params["direction"] == "no-swap":
        # Control: the same pause, nothing swapped. The VM blocks signals so
        # the delivery shows as pending.
        first_argv, first_cg = victim_argv, params["service_procs"]
        second_argv, second_cg = None, None
    elif params["direction"] == "vm-then-foreign":
        # Judged and accepted: a VM in the service cgroup. Then a foreign one.
        first_argv, first_cg = standin_argv, params["service_procs"]
        second_argv, second_cg = victim_argv, params["foreign_procs"]
    else:
        # Pinned and about to be refused: a foreign process. Then a VM, in
        # the service cgroup, that blocks signals so any signal would show.
        first_argv, first_cg = victim_argv, params["foreign_procs"]
        second_argv, second_cg = victim_argv, params["service_procs"]

    first = spawn(first_argv, first_cg)
    pid = first.pid
    facts = {"pid": pid, "first_cgroup": procfs.proc_cgroup(pid)}

    pause = Pause(params["tmp"], params["point"])
    bs_argv = [params["testhooks"], "--config", params["config"], "--pid", str(pid), "--json",
               "--signal", params["signal"]]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
    env.update(pause.env)
    bs = subprocess.Popen(bs_argv, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        pause.wait(bs)
        facts["paused_at"] = params["point"]

        if second_argv is None:
            second = first
        else:
            kill_and_reap(first)
            second = spawn_at(pid, second_argv, second_cg)
        facts["second_pid"] = second.pid
        facts["second_cgroup"] = procfs.proc_cgroup(second.pid)

        pause.resume()
        out, err = bs.communicate(timeout=30)
    finally:
        if bs.poll() is None:
            bs.kill()
            bs.wait()
        pause.close()
    facts["bs"] = {"rc": bs.returncode, "out": out.decode(errors="replace"),
                   "err": err.decode(errors="replace")}
    facts["second"] = facts_about(second)
    # Control: judged afresh, the second process gets the verdict its
    # cgroup deserves (--dry-run: nothing is sent).
    facts["fresh_dry_run"] = run_binary([params["testhooks"], "--config", params["config"],
                                         "--pid", str(pid), "--dry-run", "--json"])
    facts["second_after_dry_run"] = sorted(pending_signals(second.pid))
    if facts["second"]["alive"] and not facts["second"]["pending"]:
        facts["detector_control"] = detector_control(second)
    kill_and_reap(second)
    return facts


def main():
    if os.getpid() != 1:
        raise SystemExit("pidns_driver.py must be pid 1 of a new PID namespace")
    params = json.loads(sys.argv[1])
    facts = scenario(params)
    sys.stdout.write(json.dumps(facts) + "\n")


if __name__ == "__main__":
    main()
