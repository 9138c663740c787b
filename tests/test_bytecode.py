"""The build ships bytecode with the sources (//third_party/python:bytecode.bzl).

A new process then imports ggrs and the Tercen stubs without compiling them: each
module's .pyc must lie where the interpreter looks, be hash-checked (the same
bytes on every machine; never trusted over an edited source) and match its source.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import ggrs
from proto import tercen_pb2

PACKAGES = {"ggrs": Path(ggrs.__file__).parent, "proto": Path(tercen_pb2.__file__).parent}
# Bytecode's flags word: bit 0 hash-based, bit 1 check the source.
CHECKED_HASH = 0b11


def modules(root: Path) -> list[Path]:
    # A package's own __init__.py is left out: proto's is made by Bazel in the
    # runfiles tree, not a source the rule compiles.
    return sorted(p for p in root.rglob("*.py") if p.name != "__init__.py" or p.parent != root)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_every_module_has_checked_hash_bytecode_of_its_source(package):
    root = PACKAGES[package]
    sources = modules(root)
    assert len(sources) >= (30 if package == "ggrs" else 2)
    for source in sources:
        cached = Path(importlib.util.cache_from_source(str(source)))
        assert cached.is_file(), f"no bytecode for {source.relative_to(root)}"
        data = cached.read_bytes()
        assert data[:4] == importlib.util.MAGIC_NUMBER, source.name
        assert int.from_bytes(data[4:8], "little") == CHECKED_HASH, source.name
        assert data[8:16] == importlib.util.source_hash(source.read_bytes()), source.name
