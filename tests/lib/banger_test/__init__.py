"""What banger-signal's Python tests and bench/run share (standard library only).

  codes    the exit codes, named; checked against --help by tests/lib/check_codes.py
  help     `banger-signal --help` parsed (options, exit codes, signals, install record)
  cgroups  cgroup mounts from mountinfo (unescaped), a test cgroup tree's teardown
  procfs   a process's cgroup, state, start time and exe, from /proc
  spawn    starting a process in chosen cgroups and waiting for its "ready" line

Meson puts tests/lib on PYTHONPATH for the test suites. tests/lib/test_banger_test.py
checks the library itself.
"""
