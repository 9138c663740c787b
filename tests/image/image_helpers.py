"""Shared helpers of the image tests: the built image and the tools that check it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

# Runfiles of //docker:image (the tests run from the runfiles root).
LAYOUT = Path("docker/image_layout")
TARBALL = Path("docker/image.oci.tar")
DIGEST_FILE = Path("docker/image.digest")

# Bazel gives tests a minimal PATH, so look where Debian installs these.
_TOOL_DIRS = ("/usr/bin", "/usr/sbin", "/bin", "/sbin")


def tool(name: str) -> str:
    """The absolute path of a host tool; fails the test (never skips) if absent."""
    for folder in _TOOL_DIRS:
        path = Path(folder, name)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    pytest.fail(f"{name} is not installed: run ./bazelw (it installs the image test tools)")


def require_root() -> None:
    """Fails the test unless it runs as root (runc and umoci need it)."""
    if os.geteuid() != 0:
        pytest.fail("the image tests run containers and need root")


def run(cmd: list[str], timeout: float = 300, **kwargs: object) -> subprocess.CompletedProcess:
    """Runs a command, failing the test with its output if it exits non-zero."""
    res = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if res.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {res.returncode}\n{res.stdout}\n{res.stderr}")
    return res


def image_tag() -> str:
    """The tag index.json gives the image (org.opencontainers.image.ref.name)."""
    index = json.loads((LAYOUT / "index.json").read_text())
    return index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"]


def built_digest() -> str:
    """The manifest digest the build recorded."""
    return DIGEST_FILE.read_text().strip()


def elf_section_names(path: Path) -> set[str]:
    """The section names of a 64-bit little-endian ELF file (header table only read)."""
    with path.open("rb") as f:
        header = f.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            pytest.fail(f"{path} is not a 64-bit little-endian ELF file")
        shoff = int.from_bytes(header[0x28:0x30], "little")
        shentsize = int.from_bytes(header[0x3A:0x3C], "little")
        shnum = int.from_bytes(header[0x3C:0x3E], "little")
        shstrndx = int.from_bytes(header[0x3E:0x40], "little")
        f.seek(shoff)
        table = f.read(shentsize * shnum)
        sections = [table[i * shentsize : (i + 1) * shentsize] for i in range(shnum)]
        strtab = sections[shstrndx]
        f.seek(int.from_bytes(strtab[0x18:0x20], "little"))
        names = f.read(int.from_bytes(strtab[0x20:0x28], "little"))
    result = set()
    for section in sections:
        start = int.from_bytes(section[0:4], "little")
        result.add(names[start : names.index(b"\0", start)].decode())
    return result
