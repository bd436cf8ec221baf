#!/usr/bin/env python3
"""expect_failure.py RUNNER SCENARIO OUT PATTERN...: runs the scenario runner on a scenario
whose expectation cannot hold and passes only if the runner exits 1 and its output contains
every PATTERN (the clear message naming the failed expectation)."""
import subprocess
import sys


def main():
    runner, scenario, out, *patterns = sys.argv[1:]
    result = subprocess.run([sys.executable, runner, scenario, "--out", out],
                            capture_output=True, text=True, timeout=300)
    text = result.stdout + result.stderr
    print(text)
    if result.returncode != 1:
        print(f"expect_failure: the runner exited {result.returncode}, expected 1")
        return 1
    missing = [p for p in patterns if p not in text]
    if missing:
        print(f"expect_failure: the output lacks {missing}")
        return 1
    print("expect_failure: failed as expected, with a clear message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
