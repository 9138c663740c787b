"""Compiles Python sources of one directory into a __pycache__ directory.

Usage: compile_bytecode.py OUT_DIR SOURCE...

Each SOURCE becomes OUT_DIR/<name>.<cache tag>.pyc, the name the interpreter
running this looks for. The bytecode is checked-hash: it holds a hash of its
source instead of a timestamp, so it is the same on every machine, and an
interpreter that finds the source edited since (a runfiles tree points at the
workspace's files) compiles the source instead of running stale bytecode.
"""

from __future__ import annotations

import os
import py_compile
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    tag = sys.implementation.cache_tag
    for source in argv[1:]:
        name = Path(source).name
        if not name.endswith(".py"):
            print(f"compile_bytecode: {source} is not a .py file", file=sys.stderr)
            return 2
        try:
            py_compile.compile(
                source,
                cfile=str(out / f"{name[:-3]}.{tag}.pyc"),
                # The path tracebacks name until the import sets the real one.
                dfile=source,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
            )
        except py_compile.PyCompileError as err:
            print(f"compile_bytecode: {err}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    # marshal's output can depend on string hashing: fix it, as the image's layers do.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    sys.exit(main(sys.argv[1:]))
