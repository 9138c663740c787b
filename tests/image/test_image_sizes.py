"""docker/image_sizes.py on a small layout assembled by the real image_tool."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from docker import image_sizes
from third_party.oci import image_tool, tarutil


def _layout(tmp: Path, layers: dict[str, dict[str, bytes]]) -> Path:
    pairs = []
    for i, files in enumerate(layers.values()):
        tar = tmp / f"{i}.tar"
        tarutil.write_tar(tar, {n: tarutil.regular(n, data) for n, data in files.items()})
        gz, diffid = tmp / f"{i}.tar.gz", tmp / f"{i}.diffid"
        image_tool.gzip_layer(tar, gz, diffid)
        pairs.append((gz, diffid))
    spec = {
        "entrypoint": ["/bin/true"],
        "cmd": [],
        "env": [],
        "user": "1000:1000",
        "workdir": "/",
        "labels": {},
        "annotations": {},
        "tag": "1.0.0",
        "layer_names": list(layers),
    }
    layout = tmp / "layout"
    image_tool.assemble(spec, pairs, layout, tmp / "image.tar", tmp / "digest")
    return layout


def test_layer_sizes_reports_names_compressed_and_unpacked(tmp_path: Path) -> None:
    layout = _layout(
        tmp_path,
        {"base": {"etc/a": b"a" * 1000, "etc/b": b"b" * 24}, "app": {"opt/app/x.py": b"x = 1\n"}},
    )
    sizes = image_sizes.layer_sizes(layout)
    assert [s.name for s in sizes] == ["base", "app"]
    assert [s.unpacked for s in sizes] == [1024, 6]
    assert [s.files for s in sizes] == [2, 1]
    for i, size in enumerate(sizes):
        assert size.compressed == (tmp_path / f"{i}.tar.gz").stat().st_size
        assert gzip.decompress((tmp_path / f"{i}.tar.gz").read_bytes())  # a real gzip
    table = image_sizes.format_table(sizes).splitlines()
    assert table[1].split()[0] == "base"
    assert table[-1].split()[0] == "total"
    total_compressed = sum(s.compressed for s in sizes)
    assert float(table[-1].split()[1]) == pytest.approx(total_compressed / 1e6, abs=0.05)


def test_budget_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = _layout(tmp_path, {"only": {"f": b"0123456789" * 100}})
    assert image_sizes.main(["--layout", str(layout), "--budget-mb", "1"]) == 0
    assert image_sizes.main(["--layout", str(layout), "--budget-mb", "0.0001"]) == 1
    assert "exceeds the budget of 0.0001 MB" in capsys.readouterr().err


def test_rejects_what_is_not_a_layout(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"no index\.json"):
        image_sizes.layer_sizes(tmp_path)
    (tmp_path / "index.json").write_text(json.dumps({"manifests": []}))
    with pytest.raises(SystemExit, match=r"expected one manifest in index\.json, found 0"):
        image_sizes.layer_sizes(tmp_path)


def test_rejects_a_non_positive_budget(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    layout = _layout(tmp_path, {"base": {"etc/os-release": b"x"}})
    with pytest.raises(SystemExit) as exc:
        image_sizes.main(["--layout", str(layout), "--budget-mb", "0"])
    assert exc.value.code == 2  # argparse's usage error, before any reading
    assert "--budget-mb must be positive, got 0.0" in capsys.readouterr().err
