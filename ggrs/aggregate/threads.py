"""Splitting a pass over many points between threads.

The compiled kernels (native and numba) release the GIL, so the points can be
split into contiguous ranges handled at once, each thread into its own output
(a count grid, per-group limits), which are then combined: counts are integers
and limits are minima and maxima, so the order of combining does not matter.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import TypeVar

import numpy as np

# Each thread beyond the first costs a grid and a pass to add it, so only inputs
# of this many points per thread use one.
POINTS_PER_THREAD = 2_000_000
MAX_THREADS = 4

_T = TypeVar("_T")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def split(n: int) -> list[tuple[int, int]]:
    """Contiguous ranges covering 0..n, one per thread worth starting."""
    n_threads = max(1, min(usable_cpus(), MAX_THREADS, n // POINTS_PER_THREAD))
    bounds = [n * t // n_threads for t in range(n_threads + 1)]
    return list(itertools.pairwise(bounds))


def run_split(work: Callable[[int, int], _T], n: int) -> list[_T]:
    """``work(start, stop)`` for each range of :func:`split`, at once; the results in
    range order. The first range runs on the calling thread."""
    ranges = split(n)
    if len(ranges) == 1:
        return [work(*ranges[0])]
    from concurrent.futures import ThreadPoolExecutor  # here: only large inputs need it

    with ThreadPoolExecutor(len(ranges) - 1) as pool:
        others = [pool.submit(work, *r) for r in ranges[1:]]
        first = work(*ranges[0])
        return [first] + [other.result() for other in others]  # re-raises a worker's error


def count_split(
    count_range: Callable[[int, int, np.ndarray], None], n: int, n_bins: int
) -> np.ndarray:
    """Counts (entry 0: dropped points) of ``n`` points, split over threads when large.

    Args:
        count_range: ``count_range(start, stop, grid)`` adds the points [start, stop)
            to ``grid`` (uint32, ``n_bins + 1`` entries).
        n: the number of points.
        n_bins: bins of the grid, without the dropped-point entry.
    """

    ranges = split(n)
    # Allocated here, not on the workers: glibc gives each thread its own heap,
    # and a grid freed there stays resident in it after the render.
    grids = [np.zeros(n_bins + 1, dtype=np.uint32) for _ in ranges]
    by_start = {start: grid for (start, _), grid in zip(ranges, grids, strict=True)}

    def count(start: int, stop: int) -> None:
        count_range(start, stop, by_start[start])

    run_split(count, n)
    for grid in grids[1:]:
        np.add(grids[0], grid, out=grids[0])
    return grids[0]
