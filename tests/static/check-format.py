#!/usr/bin/env python3
"""Every C++ file of the project is as .clang-format says (clang-format --dry-run).

    check-format.py SOURCE_ROOT

Exits 77 (skipped) when clang-format is not installed, 1 listing the files
that are not formatted, 0 otherwise. To fix: clang-format -i FILE.
"""

import os
import shutil
import subprocess
import sys

DIRS = ('src', 'tests')
SUFFIXES = ('.cpp', '.hpp')


def sources(root):
    for top in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SUFFIXES):
                    yield os.path.join(dirpath, name)


def main():
    root = sys.argv[1]
    tool = shutil.which('clang-format')
    if tool is None:
        print('SKIP: clang-format is not installed', file=sys.stderr)
        return 77
    files = list(sources(root))
    if not files:
        print(f'FAIL: no C++ files below {root}', file=sys.stderr)
        return 1
    unformatted = [f for f in files
                   if subprocess.run([tool, '--dry-run', '--Werror', f], capture_output=True).returncode != 0]
    for f in unformatted:
        print(f'not formatted: {os.path.relpath(f, root)} (clang-format -i {f})')
    print(f'{len(files)} files checked, {len(unformatted)} not formatted')
    return 1 if unformatted else 0


if __name__ == '__main__':
    sys.exit(main())
