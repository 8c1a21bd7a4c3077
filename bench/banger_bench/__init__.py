"""bench/run's parts (standard library only; the sandbox, and its Flock of thousands of
processes, are banger_test's).

  budgets      the one table of budgets (README.md's Performance table is checked against it)
  timing       timed(), Command (one side of a comparison), alternate(), peak RSS
  context      the plan (samples per row), Measured (a row of the table), Bench (root/member)
  rows_root    rows 1, 4, 5, 6: as root, no pkexec
  rows_pkexec  rows 2, 3, 7: as the member, through pkexec
  report       the table, the notes under it, the README check
"""
