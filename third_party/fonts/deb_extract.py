"""Copies chosen members out of a Debian package using only the standard library.

Usage: deb_extract.py PACKAGE.deb OUT_DIR MEMBER=NAME [MEMBER=NAME ...]
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path


def ar_members(data: bytes) -> dict[str, bytes]:
    """Splits a Unix ar archive (the .deb container) into its members."""
    if not data.startswith(b"!<arch>\n"):
        raise SystemExit("not a Debian package: missing the ar magic")
    members, offset = {}, 8
    while offset + 60 <= len(data):
        header = data[offset : offset + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
    return members


def main(argv: list[str]) -> None:
    deb, out, wanted = Path(argv[1]), Path(argv[2]), dict(a.split("=", 1) for a in argv[3:])
    members = ar_members(deb.read_bytes())
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise SystemExit(f"{deb}: no data.tar member")
    out.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tar:
        for info in tar.getmembers():
            path = info.name.removeprefix("./")
            if path in wanted and info.isfile():
                (out / wanted.pop(path)).write_bytes(tar.extractfile(info).read())
    if wanted:
        raise SystemExit(f"{deb}: members not found: {sorted(wanted)}")


if __name__ == "__main__":
    main(sys.argv)
