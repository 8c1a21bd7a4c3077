#!/usr/bin/env python3
"""Runs one libFuzzer target for a bounded time, as a meson test.

    run-fuzz.py --name NAME --corpus SEED_DIR --artifacts DIR [--known-crash REGEX ...] TARGET

Fuzzes for FUZZ_SECONDS seconds (default 5) starting from a scratch copy of
the committed seed corpus, so the corpus in git never changes under a test
run. Any crash, sanitizer report, leak, timeout or violated invariant fails
the test, and the input that caused it is kept in DIR.

--known-crash: a crash whose output matches REGEX is a known bug outside
this project (say, in a library, with the upstream issue named where the
pattern is registered). It is reported and its input kept, but it does not
fail the test: fuzzing goes on, from the corpus grown so far, for the rest
of the time. Anything else still fails.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--known-crash", action="append", default=[])
    parser.add_argument("target")
    args = parser.parse_args()
    target = os.path.abspath(args.target)
    name = args.name
    known = [re.compile(pattern) for pattern in args.known_crash]

    seconds = int(os.environ.get("FUZZ_SECONDS", "5"))
    if seconds < 1:
        print(f"FUZZ_SECONDS must be at least 1, not {seconds}", file=sys.stderr)
        return 2
    os.makedirs(args.artifacts, exist_ok=True)

    env = dict(os.environ)
    # UBSan only reports and goes on unless told to stop; a report must fail.
    ubsan = env.get("UBSAN_OPTIONS", "")
    if "halt_on_error" not in ubsan:
        env["UBSAN_OPTIONS"] = ":".join(filter(None, [ubsan, "halt_on_error=1", "print_stacktrace=1"]))

    deadline = time.monotonic() + seconds
    known_inputs = []
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as scratch:
        corpus = os.path.join(scratch, "corpus")
        shutil.copytree(args.corpus, corpus)
        while True:
            remaining = max(1, round(deadline - time.monotonic()))
            command = [
                target,
                f"-max_total_time={remaining}",
                "-timeout=10",  # one input taking 10 s is a denial of service: fail
                "-rss_limit_mb=2048",
                f"-artifact_prefix={os.path.join(os.path.abspath(args.artifacts), name)}-",
                "-print_final_stats=1",
                corpus,  # new inputs found go here, so a restart keeps them
            ]
            print(" ".join(command), flush=True)
            try:
                # libFuzzer stops itself after max_total_time; this is the backstop.
                proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      timeout=remaining * 2 + 120, check=False)
            except subprocess.TimeoutExpired as e:
                sys.stdout.buffer.write(e.stdout or b"")
                print(f"\nfuzz {name}: did not stop after {remaining * 2 + 120} s", flush=True)
                return 1
            output = proc.stdout.decode("utf-8", "replace")
            saved = [os.path.abspath(p) for p in re.findall(r"Test unit written to (\S+)", output)]

            if proc.returncode == 0:
                sys.stdout.write(output)
                break
            matched = next((k for k in known if k.search(output)), None)
            if matched is None or not saved:
                sys.stdout.write(output)
                print(f"\nfuzz {name}: FAILED (exit code {proc.returncode})")
                for path in saved:
                    print(f"fuzz {name}: input saved at {path}")
                    print(f"fuzz {name}: reproduce with: {target} {path}")
                if not saved:
                    print(f"fuzz {name}: no input was saved; see the output above")
                return 1
            known_inputs += saved
            print(f"fuzz {name}: known crash ({matched.pattern}): {matched.search(output).group(0)}")
            print(f"fuzz {name}: input saved at {saved[0]}; going on", flush=True)
            if time.monotonic() >= deadline - 1:
                break

    if known_inputs:
        print(f"\nfuzz {name}: passed, with {len(known_inputs)} known crash(es) outside this project:")
        for path in known_inputs:
            print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
