"""Prints the compressed and unpacked size of each layer of an OCI image layout.

  bazel run //docker:image_sizes              # the built //docker:image
  python docker/image_sizes.py --layout DIR [--budget-mb 150]

Compressed is what a registry stores and Tercen pulls (the gzip blob);
unpacked is the bytes of the layer's files once extracted (tar headers and
directories not counted). With --budget-mb the command exits 1 when the
compressed total exceeds it. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

MB = 1_000_000
_LAYER_PREFIX = "bazel: layer "


@dataclass(frozen=True)
class LayerSize:
    """One layer of the image."""

    name: str
    digest: str
    compressed: int
    unpacked: int
    files: int


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    path = layout / "blobs" / algorithm / hexdigest
    if not path.is_file():
        raise SystemExit(f"{layout}: blob {digest} is missing; is this a complete OCI layout?")
    return path


def layer_sizes(layout: Path) -> list[LayerSize]:
    """Reads the layout's only manifest and measures its layers, bottom first.

    Args:
      layout: an OCI image layout directory (with index.json), as //docker:image
        writes it.

    Returns:
      One entry per layer; names come from the config history written by
      image_tool.py (`bazel: layer NAME`), else the layer's position.

    Raises:
      SystemExit: the layout is not a single-manifest OCI layout.
    """
    index_path = layout / "index.json"
    if not index_path.is_file():
        raise SystemExit(f"{layout}: no index.json; pass the OCI layout directory")
    manifests = json.loads(index_path.read_text())["manifests"]
    if len(manifests) != 1:
        raise SystemExit(f"{layout}: expected one manifest in index.json, found {len(manifests)}")
    manifest = json.loads(_blob(layout, manifests[0]["digest"]).read_text())
    config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text())
    history = [h.get("created_by", "") for h in config.get("history", [])]
    sizes = []
    for i, desc in enumerate(manifest["layers"]):
        by = history[i] if i < len(history) else ""
        name = by[len(_LAYER_PREFIX) :] if by.startswith(_LAYER_PREFIX) else str(i)
        unpacked = files = 0
        # Streaming read: the site layer is ~400 MB once decompressed.
        with tarfile.open(_blob(layout, desc["digest"]), mode="r|gz") as tar:
            for member in tar:
                if member.isreg():
                    unpacked += member.size
                    files += 1
        sizes.append(LayerSize(name, desc["digest"], desc["size"], unpacked, files))
    return sizes


def format_table(sizes: list[LayerSize]) -> str:
    """The sizes as an aligned text table in MB (10^6 bytes), with the total."""
    rows = [f"{'layer':<8} {'compressed MB':>14} {'unpacked MB':>12} {'files':>7}"]
    for s in sizes:
        rows.append(f"{s.name:<8} {s.compressed / MB:>14.1f} {s.unpacked / MB:>12.1f} {s.files:>7}")
    total_c = sum(s.compressed for s in sizes)
    total_u = sum(s.unpacked for s in sizes)
    total_f = sum(s.files for s in sizes)
    rows.append(f"{'total':<8} {total_c / MB:>14.1f} {total_u / MB:>12.1f} {total_f:>7}")
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", type=Path, required=True, help="OCI image layout directory")
    parser.add_argument(
        "--budget-mb", type=float, help="fail when the compressed total exceeds this"
    )
    args = parser.parse_args(argv)
    if args.budget_mb is not None and args.budget_mb <= 0:
        parser.error(f"--budget-mb must be positive, got {args.budget_mb}")
    sizes = layer_sizes(args.layout)
    print(format_table(sizes))
    total = sum(s.compressed for s in sizes)
    if args.budget_mb is not None and total > args.budget_mb * MB:
        print(
            f"compressed total {total / MB:.1f} MB exceeds the budget of {args.budget_mb} MB",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
