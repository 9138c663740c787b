"""protoc from grpcio-tools, with the well-known types on the include path."""

from __future__ import annotations

import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc


def main(argv: list[str]) -> int:
    """Runs protoc with `argv` and returns its exit status."""
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    return protoc.main(["protoc", *argv, f"-I{well_known}"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
