"""Rewrites tests/baseline_images/ from the current renderer.

Run after a deliberate change in look, then review the images before committing:
    ./bazelw run //tests:renew_goldens            # every case
    ./bazelw run //tests:renew_goldens -- theme_bw # chosen cases
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.golden_helpers import CASES, render


def main(argv: list[str]) -> int:
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    target = Path(workspace) / "tests" / "baseline_images" if workspace else None
    if target is None or not target.parent.is_dir():
        print("run me with: ./bazelw run //tests:renew_goldens", file=sys.stderr)
        return 2
    wanted = set(argv[1:])
    unknown = wanted - {c.name for c in CASES}
    if unknown:
        print(f"unknown cases {sorted(unknown)}; known: {[c.name for c in CASES]}", file=sys.stderr)
        return 2
    target.mkdir(exist_ok=True)
    for case in CASES:
        if wanted and case.name not in wanted:
            continue
        path = target / f"{case.name}.png"
        render(case).save(path, optimize=True)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
