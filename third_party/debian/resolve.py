#!/usr/bin/python3
"""Resolves the image's Debian packages from Debian's signed indexes into a lock.

Usage:
    third_party/debian/resolve.py             # rewrite debian_lock.json
    third_party/debian/resolve.py --check     # exit 1 if the lock is stale

For each suite (bookworm, bookworm-updates, bookworm-security) it downloads
`InRelease`, verifies its signature with gpgv against Debian's archive keyring,
takes the sha256 of `main/binary-amd64/Packages.xz` from the *verified* text,
checks the downloaded index against it, keeps the highest version of each
package over all suites, and walks Pre-Depends and Depends from the roots. The
lock records name, version, URL, sha256, size and why each package is there;
`deb_repo` (deb_repo.bzl) fetches exactly those files by sha256.

`--check` re-resolves and compares with the committed lock: a difference means
Debian published newer (usually security) versions of pinned packages, and the
old files will soon disappear from the archive. CI reports it.

Standard library only, plus the `gpgv` binary and the keyring (see ./bazelw).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import re
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ARCHIVE = "https://deb.debian.org/debian"
SECURITY = "https://deb.debian.org/debian-security"
SUITES = [(ARCHIVE, "bookworm"), (ARCHIVE, "bookworm-updates"), (SECURITY, "bookworm-security")]
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
INDEX = "main/binary-amd64/Packages.xz"

# What the image must run: Python 3.11 with its standard library, the
# manylinux wheels (libstdc++, libgcc), jemalloc (LD_PRELOAD), CA certificates,
# time zones, /etc/services and /etc/mime.types.
ROOTS = [
    "base-files",
    "ca-certificates",
    "libjemalloc2",
    "libpython3.11-stdlib",
    "libstdc++6",
    "media-types",
    "netbase",
    "python3.11-minimal",
    "tzdata",
]

# Installer machinery that maintainer scripts need but a finished image never
# runs (deb_layer synthesises what those scripts would have written): dpkg and
# debconf, their tar/awk/perl, the openssl CLI (ca-certificates' script) and
# install-info (readline-common's alternative to dpkg, for info pages).
EXCLUDE = [
    "awk",
    "debconf",
    "debconf-2.0",
    "dpkg",
    "gawk",
    "install-info",
    "mawk",
    "openssl",
    "perl-base",
    "tar",
]

LOCK = Path(__file__).resolve().parent / "debian_lock.json"


# --- Debian version comparison (Debian Policy 5.6.12) -----------------------


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _compare_part(a: str, b: str) -> int:
    while a or b:
        na = re.match(r"[^0-9]*", a).group()
        nb = re.match(r"[^0-9]*", b).group()
        for i in range(max(len(na), len(nb))):
            ca = _order(na[i]) if i < len(na) else 0
            cb = _order(nb[i]) if i < len(nb) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        a, b = a[len(na) :], b[len(nb) :]
        da = re.match(r"[0-9]*", a).group()
        db = re.match(r"[0-9]*", b).group()
        if int(da or 0) != int(db or 0):
            return -1 if int(da or 0) < int(db or 0) else 1
        a, b = a[len(da) :], b[len(db) :]
    return 0


def _split(version: str) -> tuple[int, str, str]:
    epoch, _, rest = version.rpartition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch), upstream, revision


def version_compare(a: str, b: str) -> int:
    """Compares two Debian version strings.

    Args:
      a: a version such as `1:2.36-9+deb12u4`.
      b: another version.

    Returns:
      -1, 0 or 1 as `a` is lower than, equal to or higher than `b`.
    """
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def satisfies(version: str, op: str, wanted: str) -> bool:
    """Whether `version` meets a dependency's `(op wanted)` constraint."""
    c = version_compare(version, wanted)
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}[op]


# --- indexes ------------------------------------------------------------------


@dataclass
class Package:
    """One binary package stanza of a Packages index."""

    name: str
    version: str
    url: str
    sha256: str
    size: int
    depends: list[list[tuple[str, str, str]]] = field(default_factory=list)
    provides: list[str] = field(default_factory=list)


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:
        return response.read()


def verified_release(base: str, suite: str) -> str:
    """Downloads a suite's InRelease and returns the text gpgv verified."""
    raw = _fetch(f"{base}/dists/{suite}/InRelease")
    with tempfile.TemporaryDirectory() as tmp:
        signed, out = Path(tmp, "InRelease"), Path(tmp, "verified")
        signed.write_bytes(raw)
        res = subprocess.run(
            ["gpgv", "--keyring", KEYRING, "--output", str(out), str(signed)],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode != 0:
            raise SystemExit(f"{suite}: InRelease signature check failed:\n{res.stderr}")
        return out.read_text()


def packages_index(base: str, suite: str) -> str:
    """Returns the suite's Packages index, checked against its signed sha256."""
    release = verified_release(base, suite)
    section = release.split("\nSHA256:\n", 1)[1]
    expected = None
    for line in section.splitlines():
        if not line.startswith(" "):
            break
        digest, size, name = line.split()
        if name == INDEX:
            expected = (digest, int(size))
    if expected is None:
        raise SystemExit(f"{suite}: {INDEX} not listed in InRelease")
    data = _fetch(f"{base}/dists/{suite}/{INDEX}")
    if (hashlib.sha256(data).hexdigest(), len(data)) != expected:
        raise SystemExit(f"{suite}: {INDEX} does not match the signed sha256")
    return lzma.decompress(data).decode()


def _relations(field_value: str) -> list[list[tuple[str, str, str]]]:
    groups = []
    for group in field_value.split(","):
        alternatives = []
        for alt in group.split("|"):
            m = re.match(r"\s*([^\s(:]+)(?::\S+)?\s*(?:\((<<|<=|=|>=|>>)\s*([^)]+)\))?", alt)
            if m:
                alternatives.append((m.group(1), m.group(2) or "", (m.group(3) or "").strip()))
        if alternatives:
            groups.append(alternatives)
    return groups


def parse_packages(text: str, base: str) -> list[Package]:
    """Parses a Packages index into its stanzas."""
    out = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" not in fields:
            continue
        deps = _relations(fields.get("Pre-Depends", "")) + _relations(fields.get("Depends", ""))
        out.append(
            Package(
                name=fields["Package"],
                version=fields["Version"],
                url=f"{base}/{fields['Filename']}",
                sha256=fields["SHA256"],
                size=int(fields["Size"]),
                depends=deps,
                provides=[p[0][0] for p in _relations(fields.get("Provides", ""))],
            )
        )
    return out


def resolve(packages: list[Package], roots: list[str], exclude: list[str]) -> list[dict]:
    """Walks the dependency closure of `roots`, newest version of each package.

    Args:
      packages: every stanza of every suite.
      roots: the packages the image needs.
      exclude: packages (or virtual names) never installed; a dependency
        group whose alternatives are all excluded is dropped.

    Returns:
      Lock entries sorted by name.
    """
    best: dict[str, Package] = {}
    for p in packages:
        if p.name not in best or version_compare(p.version, best[p.name].version) > 0:
            best[p.name] = p
    providers: dict[str, list[str]] = {}
    for p in best.values():
        for v in p.provides:
            providers.setdefault(v, []).append(p.name)

    chosen: dict[str, str] = {}
    queue = [(r, "root") for r in roots]
    while queue:
        name, why = queue.pop(0)
        if name in chosen:
            continue
        if name not in best:
            raise SystemExit(f"package {name} not found (needed by {why})")
        chosen[name] = why
        for group in best[name].depends:
            candidates = []
            for alt, op, ver in group:
                real = [alt] if alt in best else sorted(providers.get(alt, []))
                for r in real:
                    if alt in exclude or r in exclude:
                        continue
                    if op and r == alt and not satisfies(best[r].version, op, ver):
                        raise SystemExit(f"{name} needs {alt} ({op} {ver}), have {best[r].version}")
                    candidates.append(r)
            if not candidates:
                continue  # only excluded alternatives: left out on purpose
            # Prefer an alternative already chosen, else the first one.
            pick = next((c for c in candidates if c in chosen), candidates[0])
            queue.append((pick, name))
    return [
        {
            "name": n,
            "version": best[n].version,
            "url": best[n].url,
            "sha256": best[n].sha256,
            "size": best[n].size,
            "why": chosen[n],
        }
        for n in sorted(chosen)
    ]


def lock_text() -> str:
    """Resolves everything and returns the lock file's content."""
    packages = []
    for base, suite in SUITES:
        print(f"resolve: {suite}", file=sys.stderr)
        packages += parse_packages(packages_index(base, suite), base)
    entries = resolve(packages, ROOTS, EXCLUDE)
    lock = {
        "suites": [suite for _, suite in SUITES],
        "roots": ROOTS,
        "exclude": EXCLUDE,
        "packages": entries,
    }
    return json.dumps(lock, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    """Writes or checks the lock; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the lock, write nothing")
    parser.add_argument("--lock", type=Path, default=LOCK)
    args = parser.parse_args(argv)
    text = lock_text()
    if not args.check:
        args.lock.write_text(text)
        n = len(json.loads(text)["packages"])
        print(f"resolve: wrote {n} packages to {args.lock}", file=sys.stderr)
        return 0
    old = {p["name"]: p["version"] for p in json.loads(args.lock.read_text())["packages"]}
    new = {p["name"]: p["version"] for p in json.loads(text)["packages"]}
    changes = [
        f"  {n}: {old.get(n, '-')} -> {new.get(n, '-')}"
        for n in sorted(old.keys() | new.keys())
        if old.get(n) != new.get(n)
    ]
    if changes:
        print("Debian lock is stale (newer packages published):", *changes, sep="\n")
        print("Run third_party/debian/resolve.py and commit debian_lock.json.")
        return 1
    print(f"Debian lock is current ({len(old)} packages).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
