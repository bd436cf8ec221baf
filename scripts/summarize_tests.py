#!/usr/bin/env python3
"""Sums Meson's JUnit log into the closing line "N passed, N failed, N skipped".

GoogleTest binaries (protocol 'gtest') appear as one <testsuite> per test fixture with a
<testcase> per test; every other Meson test appears as one <testcase>. A test case counts as
failed when it has a <failure> or <error> child, skipped when it has <skipped>, else passed.
A test binary that crashed before writing its results still has a failing Meson entry.
Exit status: 1 when anything failed or nothing ran, else 0.
"""
import sys
import xml.etree.ElementTree as ET


def main(path: str) -> int:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        print(f"summarize_tests: cannot read {path}: {err}")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    passed = failed = skipped = 0
    failures = []
    for case in root.iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None or case.get("result") == "skipped":
            skipped += 1
        else:
            passed += 1
    for name in failures:
        print(f"FAILED: {name}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed + skipped == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.junit.xml"))
