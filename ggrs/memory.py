"""Handing memory freed by a large read or render back to the system.

Reading and rendering free far more than they keep: decoded row groups, count
grids, scratch. Two allocators hold on to such memory for reuse: Arrow's pool
(a few row groups' worth) and glibc's heap (blocks under its adaptive mmap
threshold, which rises to the size of the largest block freed). Kept, it serves
the next allocation without page faults; but it stays resident, and the next
step's peak lands on top of it: 10–40 MB at 5e7 points, where the memory budget
(input + 200 MB) is tight. Released, the next allocations fault their pages in
again, which costs more than the allocation on a VM that hands freed memory
back to its host.

So only large tables release (:data:`RELEASE_FROM_BYTES` of columns and more):
there the retained memory matters and the page faults are a small part of the run.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import pyarrow as pa


def _glibc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_malloc_trim = _glibc_trim()


RELEASE_FROM_BYTES = 1 << 28
"""Tables of at least this many bytes of columns release freed memory (256 MiB:
2.4e7 rows of x, y and three codes)."""


def release_freed() -> None:
    """Return freed pages of Arrow's pool and of the C heap to the system."""
    pa.default_memory_pool().release_unused()
    if _malloc_trim is not None:
        _malloc_trim(0)
