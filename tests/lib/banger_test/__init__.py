"""What banger-signal's Python tests and bench/run share (standard library only).

  codes    the exit codes, named; checked against --help by tests/lib/check_codes.py
  help     `banger-signal --help` parsed (options, exit codes, signals, install record)

Meson puts tests/lib on PYTHONPATH for the test suites.
"""
