"""trace_imports.stdlib_module: which traced modules get a .pyc in the base layer."""

from __future__ import annotations

import pytest
from trace_imports import stdlib_module

_LIB = "/usr/lib/python3.11"


@pytest.mark.parametrize(
    ("name", "path", "origin", "expected"),
    [
        ("argparse", f"{_LIB}/argparse.py", f"{_LIB}/argparse.py", True),
        ("json", f"{_LIB}/json/__init__.py", f"{_LIB}/json/__init__.py", True),
        ("json.decoder", f"{_LIB}/json/decoder.py", f"{_LIB}/json/decoder.py", True),
        # Frozen into the interpreter: its __file__ names the source it never reads.
        ("os", f"{_LIB}/os.py", "frozen", False),
        # An alias of posixpath, which is listed under its own name.
        ("os.path", f"{_LIB}/posixpath.py", f"{_LIB}/posixpath.py", False),
        # Extension modules and other packages' directories.
        ("_json", f"{_LIB}/lib-dynload/_json.so", f"{_LIB}/lib-dynload/_json.so", False),
        (
            "yaml",
            f"{_LIB}/dist-packages/yaml/__init__.py",
            f"{_LIB}/dist-packages/yaml/__init__.py",
            False,
        ),
        ("numpy", "/opt/site/numpy/__init__.py", "/opt/site/numpy/__init__.py", False),
        ("sys", "None", "built-in", False),
    ],
)
def test_stdlib_module(name: str, path: str, origin: str, expected: bool) -> None:
    assert stdlib_module(name, path, origin) is expected
