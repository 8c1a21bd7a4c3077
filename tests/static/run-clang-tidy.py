#!/usr/bin/env python3
"""Runs clang-tidy (config: the repository's .clang-tidy) over every source
file of src/ listed in the build's compile_commands.json. Any finding fails.

usage: run-clang-tidy.py BUILDDIR SOURCEDIR
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys


def main() -> int:
    builddir, sourcedir = sys.argv[1], os.path.realpath(sys.argv[2])
    tidy = shutil.which("clang-tidy")
    if tidy is None:
        print("clang-tidy is not installed (apt install clang-tidy)")
        return 1
    with open(os.path.join(builddir, "compile_commands.json"), encoding="utf-8") as f:
        entries = json.load(f)
    src = os.path.join(sourcedir, "src") + os.sep
    files = sorted({os.path.realpath(os.path.join(e["directory"], e["file"])) for e in entries})
    files = [f for f in files if f.startswith(src)]
    if not files:
        print("no source files found in compile_commands.json")
        return 1

    def tidy_one(path: str) -> tuple[str, int, str]:
        r = subprocess.run([tidy, "--quiet", "-p", builddir, path], capture_output=True, text=True, check=False)
        return path, r.returncode, r.stdout + r.stderr

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for path, rc, output in pool.map(tidy_one, files):
            findings = [ln for ln in output.splitlines() if ": warning:" in ln or ": error:" in ln]
            status = "ok" if rc == 0 and not findings else "FINDINGS"
            print(f"{status:8} {os.path.relpath(path, sourcedir)}")
            if status != "ok":
                failed += 1
                print(output)
    print(f"clang-tidy: {len(files)} files, {failed} with findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
