"""Runs ruff over the repository's Python files as a Bazel test.

Usage: run_ruff.py check|format  (the files come from the test's data)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# The folders holding the project's Python sources inside the test's runfiles;
# external/ (installed wheels) is deliberately not among them.
SOURCE_DIRS = ("benchmarks", "ggrs", "proto", "tests", "third_party")


def main(argv: list[str]) -> int:
    """Runs `ruff check` or `ruff format --check` and returns ruff's exit status."""
    mode = argv[1] if len(argv) > 1 else "check"
    command = {"check": ["check", "--no-cache"], "format": ["format", "--check", "--no-cache"]}
    if mode not in command:
        print(f"usage: run_ruff.py check|format (got {mode!r})", file=sys.stderr)
        return 2
    dirs = [d for d in SOURCE_DIRS if Path(d).is_dir()]
    files = sorted(str(p) for d in dirs for p in Path(d).rglob("*.py"))
    if not files:
        print(f"error: no Python file found under {dirs}", file=sys.stderr)
        return 1
    cmd = [sys.executable, "-m", "ruff", *command[mode], "--config", "pyproject.toml", *files]
    result = subprocess.run(cmd, check=False)
    if result.returncode == 0:
        print(f"ruff {mode}: {len(files)} files clean")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
