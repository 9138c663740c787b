#!/usr/bin/python3
"""The registry tags CI gives an image, from the Git ref it was built for.

    image_tags.py --ref refs/tags/1.2.3 --sha 0123456789abcdef... [--version-file ggrs/__init__.py]

Policy: a push to `main` → `main` and the short commit SHA; a tag `1.2.3`
(semver, optionally `-rc.1`) → `1.2.3` and the short SHA, and the tag must
equal `__version__` (the image's version label); a tag `v1.2.3` is rejected
(Tercen references operator images by bare semver); other refs push nothing.
Prints one tag per line; exit status 2 and a message for a rejected ref.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?")


class TagPolicyError(ValueError):
    """A ref that must not be published, with the reason."""


def image_tags(ref: str, sha: str, version: str | None = None) -> list[str]:
    """Returns the tags for an image built from `ref` at commit `sha`.

    Args:
      ref: the full Git ref (`refs/heads/main`, `refs/tags/1.2.3`, ...).
      sha: the full commit SHA.
      version: the source's version; a release tag must equal it.

    Returns:
      The tags to push, empty for refs that publish nothing.

    Raises:
      TagPolicyError: for release tags that break the policy.
    """
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise TagPolicyError(f"not a full commit SHA: {sha!r}")
    short = sha[:7]
    if ref == "refs/heads/main":
        return ["main", short]
    if not ref.startswith("refs/tags/"):
        return []
    tag = ref.removeprefix("refs/tags/")
    if tag.startswith("v") and SEMVER.fullmatch(tag[1:]):
        raise TagPolicyError(
            f"tag {tag!r}: release tags are bare semver without 'v'; tag {tag[1:]!r} instead"
        )
    if not SEMVER.fullmatch(tag):
        raise TagPolicyError(f"tag {tag!r} is not semver (MAJOR.MINOR.PATCH[-PRERELEASE])")
    if version is not None and tag != version:
        raise TagPolicyError(f"tag {tag!r} differs from the source version {version!r}")
    return [tag, short]


def main(argv: list[str]) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", required=True)
    parser.add_argument("--sha", required=True)
    parser.add_argument("--version-file", type=Path, help="module with __version__ = '...'")
    args = parser.parse_args(argv)
    version = None
    if args.version_file:
        text = args.version_file.read_text()
        m = re.search(r"""^__version__\s*=\s*["']([^"']+)["']""", text, re.M)
        version = m.group(1) if m else None
    try:
        tags = image_tags(args.ref, args.sha, version)
    except TagPolicyError as err:
        print(f"image_tags: {err}", file=sys.stderr)
        return 2
    print("\n".join(tags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
