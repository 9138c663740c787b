"""The resolver's offline parts: Debian version order, index parsing, closure."""

from __future__ import annotations

import pytest
from resolve import parse_packages, resolve, version_compare

INDEX = """\
Package: app
Version: 1.0-1
Pre-Depends: libc6 (>= 2.36)
Depends: awk | gawk, libfoo:any, virtual-bar
Filename: pool/main/a/app/app_1.0-1_amd64.deb
Size: 10
SHA256: aa

Package: libc6
Version: 2.36-9+deb12u4
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u4_amd64.deb
Size: 20
SHA256: bb

Package: libc6
Version: 2.36-9+deb12u10
Filename: pool/main/g/glibc/libc6_2.36-9+deb12u10_amd64.deb
Size: 21
SHA256: cc

Package: libfoo
Version: 3~rc1
Depends: libc6
Filename: pool/main/f/foo/libfoo_3~rc1_amd64.deb
Size: 30
SHA256: dd

Package: bar-impl
Version: 1
Provides: virtual-bar
Filename: pool/main/b/bar/bar-impl_1_amd64.deb
Size: 40
SHA256: ee

Package: gawk
Version: 5
Filename: pool/main/g/gawk/gawk_5_amd64.deb
Size: 50
SHA256: ff
"""


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("1.0~rc1", "1.0", -1),
        ("2.36-9+deb12u10", "2.36-9+deb12u4", 1),
        ("1:1.0", "2.0", 1),
        ("1.0", "1.0-0", 0),
        ("1.0a", "1.0", 1),
        ("1.0", "1.0+b1", -1),
        ("3.0.22-1~deb12u2", "3.0.22-1", -1),
    ],
)
def test_debian_version_order(a: str, b: str, expected: int) -> None:
    assert version_compare(a, b) == expected
    assert version_compare(b, a) == -expected


def test_closure_takes_newest_versions_providers_and_skips_excluded() -> None:
    packages = parse_packages(INDEX, "https://deb.example/debian")
    lock = {p["name"]: p for p in resolve(packages, ["app"], ["awk", "gawk"])}
    assert sorted(lock) == ["app", "bar-impl", "libc6", "libfoo"]
    assert lock["libc6"]["version"] == "2.36-9+deb12u10"
    assert lock["libc6"]["sha256"] == "cc"
    assert lock["libc6"]["url"].endswith("libc6_2.36-9+deb12u10_amd64.deb")
    assert lock["bar-impl"]["why"] == "app"


def test_unsatisfied_version_constraint_fails() -> None:
    text = INDEX.replace("libc6 (>= 2.36)", "libc6 (>= 2.37)")
    with pytest.raises(SystemExit, match="needs libc6"):
        resolve(parse_packages(text, "https://deb.example/debian"), ["app"], ["gawk"])


def test_missing_package_fails() -> None:
    with pytest.raises(SystemExit, match="not found"):
        resolve(parse_packages(INDEX, "https://deb.example/debian"), ["nope"], [])
