"""What banger-signal's Python tests and bench/run share (standard library only).

  codes    the exit codes, named; checked against --help by tests/lib/check_codes.py
  help     `banger-signal --help` parsed (options, exit codes, signals, install record)
  cgroups  cgroup mounts from mountinfo (unescaped), a test cgroup tree's teardown
  procfs   a process's cgroup, state, start time and exe, from /proc
  spawn    starting a process in chosen cgroups and waiting for its "ready" line
  sandbox  the end-to-end world: real pkexec, polkitd and system bus in a private
           mount namespace (tests/e2e, bench/run, tools/demo)

Meson puts tests/lib on PYTHONPATH for the test suites; bench/run and
tests/e2e/sandbox.py, run by hand, add it themselves. tests/lib/test_banger_test.py
checks the library itself.
"""
