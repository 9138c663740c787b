"""Compresses layers and assembles an OCI image layout, deterministically.

Subcommands:
  gzip LAYER.tar OUT.tar.gz OUT.diffid     one per layer, so Bazel caches each
  assemble --spec SPEC.json --layer GZ DIFFID ... --layout DIR --tar OUT --digest OUT

The spec (written by oci_image in defs.bzl) carries the runtime config; labels,
annotations and the tag may contain `{version}`, replaced by `__version__`
read from `--version-file`, so the version lives in one place of the repository.
Every timestamp is the epoch and JSON is canonical (sorted keys, no spaces).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

from third_party.oci import tarutil

EPOCH = "1970-01-01T00:00:00Z"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
INDEX = "application/vnd.oci.image.index.v1+json"
CHUNK = 1 << 20


def canonical(obj: object) -> bytes:
    """The JSON bytes every digest is computed over."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def gzip_layer(layer: Path, out: Path, diffid: Path) -> None:
    """Compresses a layer (no name, mtime 0) and records its uncompressed digest."""
    digest = hashlib.sha256()
    with (
        layer.open("rb") as src,
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz,
    ):
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            gz.write(chunk)
    diffid.write_text(f"sha256:{digest.hexdigest()}\n")


def read_version(path: Path) -> str:
    """Reads `__version__ = "x.y.z"` from a Python module."""
    m = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", path.read_text(), re.M)
    if not m:
        raise SystemExit(f"{path}: no __version__ assignment")
    return m.group(1)


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return f"sha256:{h.hexdigest()}", path.stat().st_size


def assemble(
    spec: dict, layers: list[tuple[Path, Path]], layout: Path, tar: Path, digest_out: Path
) -> str:
    """Writes the OCI layout directory, its tarball and the manifest digest.

    Args:
      spec: entrypoint, cmd, env (list of KEY=VALUE), user, workdir, labels,
        annotations, tag and layer names (already version-substituted).
      layers: (compressed layer, diffid file) pairs, bottom layer first.
      layout: directory to fill (oci-layout, index.json, blobs/sha256/).
      tar: the same layout as one tar (for `skopeo copy oci-archive:`).
      digest_out: file receiving the manifest digest.

    Returns:
      The manifest digest.
    """
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    layer_descs, diff_ids = [], []
    for gz, diffid in layers:
        digest, size = _file_digest(gz)
        shutil.copyfile(gz, blobs / digest.split(":")[1])
        layer_descs.append({"mediaType": LAYER, "digest": digest, "size": size})
        diff_ids.append(diffid.read_text().strip())
    config = {
        key: value
        for key, value in {
            "Entrypoint": spec["entrypoint"],
            "Cmd": spec["cmd"],
            "Env": spec["env"],
            "User": spec["user"],
            "WorkingDir": spec["workdir"],
            "Labels": spec["labels"],
        }.items()
        if value
    }
    image = {
        "architecture": "amd64",
        "os": "linux",
        "created": EPOCH,
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [
            {"created": EPOCH, "created_by": f"bazel: layer {name}"} for name in spec["layer_names"]
        ],
    }

    def blob(data: bytes, media_type: str) -> dict:
        digest = f"sha256:{hashlib.sha256(data).hexdigest()}"
        (blobs / digest.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    config_desc = blob(canonical(image), CONFIG)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": config_desc,
        "layers": layer_descs,
    }
    if spec["annotations"]:
        manifest["annotations"] = spec["annotations"]
    manifest_desc = blob(canonical(manifest), MANIFEST)
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": spec["tag"]}
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [manifest_desc]}
    (layout / "index.json").write_bytes(canonical(index))
    (layout / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))

    entries = {}
    for path in sorted(layout.rglob("*")):
        name = path.relative_to(layout).as_posix()
        entries[name] = (
            tarutil.directory(name)
            if path.is_dir()
            else tarutil.Entry(tarutil.make_info(name), source=path)
        )
    tarutil.write_tar(tar, entries)
    digest_out.write_text(manifest_desc["digest"] + "\n")
    return manifest_desc["digest"]


def main(argv: list[str]) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    gz = sub.add_parser("gzip")
    gz.add_argument("layer", type=Path)
    gz.add_argument("out", type=Path)
    gz.add_argument("diffid", type=Path)
    asm = sub.add_parser("assemble")
    asm.add_argument("--spec", type=Path, required=True)
    asm.add_argument("--version-file", type=Path)
    asm.add_argument("--layer", nargs=2, type=Path, action="append", default=[])
    asm.add_argument("--layout", type=Path, required=True)
    asm.add_argument("--tar", type=Path, required=True)
    asm.add_argument("--digest", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.cmd == "gzip":
        gzip_layer(args.layer, args.out, args.diffid)
        return
    text = args.spec.read_text()
    if args.version_file:
        # JSON-escape the version so any value stays valid JSON.
        text = text.replace("{version}", json.dumps(read_version(args.version_file))[1:-1])
    elif "{version}" in text:
        raise SystemExit("the spec uses {version} but no --version-file was given")
    assemble(json.loads(text), args.layer, args.layout, args.tar, args.digest)


if __name__ == "__main__":
    main(sys.argv[1:])
