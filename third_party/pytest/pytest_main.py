"""Entry point of every `pytest_test`: runs pytest with Bazel's conventions."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


def main() -> int:
    """Runs pytest on the files given as arguments and returns its exit status."""
    args = ["-c", "pyproject.toml", "--rootdir", str(Path.cwd()), "-p", "no:cacheprovider"]
    junit = os.environ.get("XML_OUTPUT_FILE")
    if junit:
        args.append(f"--junitxml={junit}")
    status = pytest.main(args + sys.argv[1:])
    if status == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"error: no test was collected from {sys.argv[1:]}", file=sys.stderr)
        return 1
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
