"""Fonts pinned by the build (Debian's fonts-dejavu-core, fetched by sha256).

The repository rule in //third_party/fonts:fonts.bzl places the TrueType
files beside this module, so the same lookup works under Bazel's runfiles,
in the container image and in a plain virtual environment.
"""

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent

REGULAR = FONT_DIR / "DejaVuSans.ttf"
BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
