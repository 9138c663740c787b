"""Deterministic tar archives: the byte-for-byte reproducible core of every layer.

The same inputs give the same bytes on any machine, path or date: PAX format,
entries sorted by path, mtime 0, no user or group names, no PAX extras, owner
root unless an entry says otherwise, and missing parent directories added.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Entry:
    """One archive member: its header and, for regular files, its content."""

    info: tarfile.TarInfo
    data: bytes | None = None
    source: Path | None = None

    def content(self) -> bytes:
        """The file's bytes (read from `source` at write time if not in memory)."""
        if self.data is not None:
            return self.data
        if self.source is not None:
            return self.source.read_bytes()
        return b""


def clean_path(name: str) -> str:
    """`./a/b/`, `/a/b` → `a/b` (the form every entry is keyed by)."""
    name = posixpath.normpath("/" + name).lstrip("/")
    return "" if name == "." else name


def make_info(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, uid: int = 0, gid: int = 0
) -> tarfile.TarInfo:
    """A header with the deterministic defaults."""
    info = tarfile.TarInfo(clean_path(name))
    info.type = kind
    info.mode = mode
    info.uid, info.gid = uid, gid
    return info


def directory(name: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    """A directory entry."""
    return Entry(make_info(name, tarfile.DIRTYPE, mode, uid, gid))


def symlink(name: str, target: str) -> Entry:
    """A symbolic link entry pointing at `target` (kept verbatim)."""
    info = make_info(name, tarfile.SYMTYPE, 0o777)
    info.linkname = target
    return Entry(info)


def regular(name: str, data: bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Entry:
    """A regular file entry with in-memory content."""
    return Entry(make_info(name, tarfile.REGTYPE, mode, uid, gid), data=data)


def _normalise(info: tarfile.TarInfo) -> None:
    info.mtime = 0
    info.uname = info.gname = ""
    info.pax_headers = {}
    info.devmajor = info.devminor = 0


def write_tar(out: Path, entries: dict[str, Entry]) -> int:
    """Writes `entries` (keyed by clean path) as a deterministic tar.

    Args:
      out: the archive to create.
      entries: members by path; parents that are missing are added as 0755
        root-owned directories.

    Returns:
      The number of bytes of regular-file content written.
    """
    entries = dict(entries)
    for name in list(entries):
        parent = posixpath.dirname(name)
        while parent and parent not in entries:
            entries[parent] = directory(parent)
            parent = posixpath.dirname(parent)
    total = 0
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            entry = entries[name]
            info = entry.info
            info.name = name
            _normalise(info)
            if info.isreg():
                data = entry.content()
                info.size = len(data)
                total += len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.size = 0
                tar.addfile(info)
    return total
