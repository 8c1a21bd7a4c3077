"""Entering the sandbox from a script: the checks, the namespace, the unittest runner."""

from __future__ import annotations

import os
import signal
import sys
import unittest

from ..codes import SKIP
from .namespace import enter_private_namespace, missing_tools, preflight
from .world import Sandbox


def host_problem() -> tuple[bool, str] | None:
    """(skip?, why) when the sandbox cannot run here, else None.

    Without root or mount namespaces the caller should skip (77); without one of the
    tools it needs, it should fail: CI must have them.
    """
    why = preflight()
    if why:
        return True, why
    missing = missing_tools()
    if missing:
        return False, 'missing ' + ', '.join(missing) + (' (apt-get install policykit-1 dbus '
                                                         'util-linux meson)')
    return None


def _raise_interrupt(_signum, _frame):
    raise KeyboardInterrupt


def enter() -> None:
    """Re-execute the calling script in the private namespace (returns only there), where
    a SIGTERM (meson's timeout, a user) unwinds through the sandbox's cleanup."""
    enter_private_namespace()
    signal.signal(signal.SIGTERM, _raise_interrupt)


def run_unittests(test_module_globals: dict) -> int:
    """main() of an e2e test file: skip (77) where the sandbox cannot run, enter
    the private namespace, build one Sandbox, publish it as the module's SB,
    and run the module's unittest cases against it."""
    problem = host_problem()
    if problem:
        skip, why = problem
        print(f'{"SKIP" if skip else "FAIL"}: {why}', file=sys.stderr)
        return SKIP if skip else 1
    builddir = os.environ.get('BANGER_E2E_BUILDDIR')
    if not builddir:
        print('FAIL: BANGER_E2E_BUILDDIR is not set (run through meson test)', file=sys.stderr)
        return 1
    enter()                            # re-executes the test file; continues inside
    with Sandbox(builddir, sourcedir=os.environ.get('BANGER_E2E_SOURCEDIR'),
                 standin=os.environ.get('BANGER_E2E_STANDIN'),
                 impostor=os.environ.get('BANGER_E2E_IMPOSTOR'),
                 verbose=True) as sb:
        test_module_globals['SB'] = sb
        prog = unittest.main(module=test_module_globals['__name__'],
                             argv=[sys.argv[0], *sys.argv[1:]], exit=False)
    return 0 if prog.result.wasSuccessful() else 1
