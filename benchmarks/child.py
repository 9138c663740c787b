"""Running a benchmark's child process: wall time, peak RSS, foreign load.

Shared by render_bench.py and operator_bench.py.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def _cpu_busy_seconds() -> float:
    """Seconds of non-idle CPU time of the whole machine so far (/proc/stat)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    busy = sum(values[:8]) - idle
    return busy / os.sysconf("SC_CLK_TCK")


@dataclass
class ChildResult:
    """A finished child process: status, wall time, peak RSS and foreign load."""

    rc: int
    wall: float
    rss_mb: float
    cpu: float
    foreign: float
    stdout: str
    stderr: str
    timed_out: bool = False

    def error(self) -> str:
        """A one-line reason for a failure."""
        if self.timed_out:
            return f"timed out after {self.wall:.0f} s"
        lines = [ln for ln in self.stderr.strip().splitlines() if ln.strip()]
        tail = lines[-1] if lines else "(no output)"
        return f"exit {self.rc}: {tail[:160]}"


def child_env() -> dict[str, str]:
    """The environment for children: this process's import path, so both Bazel's
    runfiles and a plain checkout work."""
    # Tercen credentials of the developer's shell never reach a benchmark child.
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERCEN_")}
    paths = [p for p in sys.path if p and Path(p).is_absolute()]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env.pop("PYTHONSTARTUP", None)
    return env


def run_child(cmd: Sequence[str], timeout: float, workdir: Path) -> ChildResult:
    """Runs `cmd`; wall time from spawn to exit, the child's own peak RSS (wait4)."""
    out_path = workdir / "child.out"
    err_path = workdir / "child.err"
    busy0 = _cpu_busy_seconds()
    timed_out = threading.Event()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=child_env())

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    busy = _cpu_busy_seconds() - busy0
    cpu = usage.ru_utime + usage.ru_stime
    return ChildResult(
        rc=proc.returncode,
        wall=wall,
        rss_mb=usage.ru_maxrss / 1024,  # ru_maxrss is in KiB on Linux
        cpu=cpu,
        foreign=max(0.0, (busy - cpu) / wall) if wall > 0 else float("nan"),
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
        timed_out=timed_out.is_set(),
    )
