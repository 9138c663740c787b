"""Large reads and renders hand freed memory back; small ones keep it for speed."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from ggrs import io, memory, pipeline
from ggrs.properties import parse_properties


def _render_and_read(tmp_path, monkeypatch, threshold: int) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(memory, "RELEASE_FROM_BYTES", threshold)
    monkeypatch.setattr(memory, "release_freed", lambda: calls.append("released"))
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0, 3.0], "y": [4.0, 5.0, 6.0]}), path)
    table = io.read_table(path)
    calls.append("read")
    request = pipeline.PlotRequest(
        aes=pipeline.Aesthetics(x="x", y="y"),
        properties=parse_properties({"plot.width": "200", "plot.height": "150"}),
    )
    pipeline.render_table(table, request)
    return calls


def test_large_tables_release_after_the_read_and_after_the_render(tmp_path, monkeypatch):
    # 48 bytes of columns: "large" from 48 bytes on.
    assert _render_and_read(tmp_path, monkeypatch, 48) == ["released", "read", "released"]


def test_small_tables_keep_freed_memory(tmp_path, monkeypatch):
    assert _render_and_read(tmp_path, monkeypatch, 49) == ["read"]


def test_release_runs_here():
    memory.release_freed()  # Arrow's pool, and glibc's heap where the C library has one
    assert memory._malloc_trim is not None  # the build and test machines run glibc
