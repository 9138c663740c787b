"""The operator's peak memory grows with rows only by the columns it keeps.

The operator runs twice in a subprocess against the fake server, on 2e5 and on
2e6 rows streamed in equal chunks (so both runs hold the same per-chunk
buffers), and its peak RSS (VmHWM, which it logs at the end) is compared. The
growth per extra row must stay within twice the bytes per row of the columns
the loader keeps: the other half covers the engine's per-row temporaries
(panel codes, page selection). A loader that kept the streamed TSON or the
decoded Arrow chunks, or widened a column to 8 bytes, would exceed it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests import fake_tercen_helpers as fake_tercen

SMALL_ROWS, LARGE_ROWS = 200_000, 2_000_000
CHUNK_ROWS = 100_000
# Columns kept per row for the synthetic crosstab (12 panels, 5 colour levels):
# x, y float32 (4 + 4), facet row and column codes (1 + 1), finite mask (1),
# colour level int32 (4), page code (1).
KEPT_BYTES_PER_ROW = 4 + 4 + 1 + 1 + 1 + 4 + 1
# Bytes per extra row the peak may grow beyond the kept columns: measured 19.8
# per row (3.8 over the kept 16; RSS noise ~0.6 per row), while one column
# widened to float64 adds 4 and two add 8.
SLACK_BYTES = 6
_PEAK = re.compile(r"peak RSS (\d+) MB")


def peak_rss_mb(n: int) -> int:
    projection = fake_tercen.synthetic(n, seed=1)
    properties = {"plot.width": "400", "plot.height": "300"}
    with fake_tercen.FakeTercen(projection, properties=properties, fragment=1 << 20) as fake:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TERCEN_")}
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        result = subprocess.run(
            [sys.executable, "-m", "ggrs.operator", "--taskId", fake_tercen.TASK_ID,
             "--serviceUri", fake.uri, "--token", fake_tercen.TOKEN,
             f"--chunk_rows={CHUNK_ROWS}"],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert len(fake.uploads) == 1
    found = _PEAK.search(result.stdout)
    assert found, result.stdout
    return int(found.group(1))


def test_peak_memory_grows_only_by_the_kept_columns():
    small = peak_rss_mb(SMALL_ROWS)
    large = peak_rss_mb(LARGE_ROWS)
    per_row = (large - small) * 2**20 / (LARGE_ROWS - SMALL_ROWS)
    assert per_row <= KEPT_BYTES_PER_ROW + SLACK_BYTES, (
        f"peak RSS {small} MB at {SMALL_ROWS:,} rows, {large} MB at {LARGE_ROWS:,}: "
        f"{per_row:.1f} bytes per extra row, more than {KEPT_BYTES_PER_ROW} kept + "
        f"{SLACK_BYTES} slack"
    )
    # The data must be loaded at all: 1.8e6 rows of x and y alone are 13.7 MB.
    assert per_row >= 8
