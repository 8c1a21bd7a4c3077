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
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Only helpers without side effects: no harness session is created here.
from adversarial import VICTIM_SOURCE, Pause, mask_signals, pending_signals, read_status  # noqa: E402

READY_TIMEOUT = 10.0
GRACE = 0.3


def spawn(argv, procs_file):
    """Start argv in the cgroup of procs_file; wait for "ready\\n"."""
    read_fd, write_fd = os.pipe()

    def place():
        with open(procs_file, "w") as f:
            f.write(str(os.getpid()))

    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "STANDIN_READY_FD": str(write_fd)}
    try:
        p = subprocess.Popen(argv, env=env, preexec_fn=place, pass_fds=(write_fd,),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    finally:
        os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], READY_TIMEOUT)
        data = os.read(read_fd, 64) if ready else b""
    finally:
        os.close(read_fd)
    if data != b"ready\n":
        p.kill()
        raise RuntimeError(f"{argv[0]} did not get ready ({data!r}, rc {p.wait()})")
    return p


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


def cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            if line.startswith("0::"):
                return line[3:].rstrip("\n")
    return None


def kill_and_reap(p):
    p.kill()
    p.wait()
    if os.path.exists(f"/proc/{p.pid}"):
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
    facts = {"pid": pid, "first_cgroup": cgroup_of(pid)}

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
        facts["second_cgroup"] = cgroup_of(second.pid)

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
