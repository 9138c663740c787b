"""Prints "N passed, N failed" over the JUnit XML of the given Bazel test targets.

Usage: summarize_tests.py TESTLOGS_DIR //pkg:target ...

A target without a test.xml (it failed to build or crashed) counts as one
failed test; a target whose XML records no test case counts as one failure too,
since every target here must run something. Exits 1 when anything failed.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def count(xml_path: Path) -> tuple[int, int, int]:
    """(passed, failed, skipped) test cases in one JUnit file."""
    root = ET.parse(xml_path).getroot()
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(argv: list[str]) -> int:
    logs, targets = Path(argv[1]), argv[2:]
    passed = failed = skipped = 0
    for target in targets:
        package, name = target.lstrip("/").split(":")
        xml_path = logs / package / name / "test.xml"
        if not xml_path.is_file():
            print(f"{target}: no test results (did it build?)", file=sys.stderr)
            failed += 1
            continue
        p, f, s = count(xml_path)
        if p + f + s == 0:
            print(f"{target}: ran no test case", file=sys.stderr)
            f = 1
        passed, failed, skipped = passed + p, failed + f, skipped + s
    if not targets:
        print("no test target found", file=sys.stderr)
        failed += 1
    line = f"{passed} passed, {failed} failed"
    print(line + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
