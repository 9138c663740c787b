"""The operator process (``python -m ggrs.operator``) against the fake Tercen server.

Each case starts the real entry point in a subprocess, as Tercen starts the
container, and checks the documented outcome: the uploaded result decodes back
to PNG images of the reported size, or the run fails with one clear line on
stderr, a non-zero status and no upload.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from tests import fake_tercen_helpers as fake_tercen

SMALL = {"plot.width": "400", "plot.height": "300"}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERCEN_")}
    # The child imports ggrs and the generated stubs from wherever this test found them.
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


def start(fake, *flags: str, token: str = fake_tercen.TOKEN, **popen) -> subprocess.Popen:
    args = [sys.executable, "-m", "ggrs.operator", "--taskId", fake_tercen.TASK_ID,
            "--serviceUri", fake.uri, "--token", token, *flags]  # fmt: skip
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(),
        **popen,
    )  # fmt: skip


def run(fake, *flags: str, token: str = fake_tercen.TOKEN) -> subprocess.CompletedProcess:
    process = start(fake, *flags, token=token)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def assert_png_result(fake, names):
    assert len(fake.uploads) == 1, "exactly one upload, holding every page"
    upload = fake.uploads[0]
    columns = fake_tercen.decode_result(upload.payload)
    images = fake_tercen.result_images(upload.payload)
    assert sorted(images) == sorted(names)
    widths = dict(zip(columns["ggrs.filename"][1], columns["ggrs.plot_width"][1], strict=True))
    heights = dict(zip(columns["ggrs.filename"][1], columns["ggrs.plot_height"][1], strict=True))
    for name, png in images.items():
        image = Image.open(io.BytesIO(png))
        image.load()
        assert image.format == "PNG"
        assert image.size == (widths[name], heights[name])  # the real size is reported
    return images


def assert_failed(result, fake, message):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ggrs operator: error:")
    assert message in lines[0]
    assert fake.uploads == []
    assert fake.updated_tasks == []
    assert fake_tercen.TOKEN not in result.stderr + result.stdout


def test_crabs_into_the_task_result_file():
    with fake_tercen.FakeTercen(fake_tercen.crabs(), properties={"filename": "crabs"}) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert_png_result(fake, ["crabs.png"])
    assert fake.uploads[0].document.id == fake_tercen.RESULT_FILE_ID  # path B
    assert fake.updated_tasks == []
    for stage in ("connect", "context", "stream", "render", "upload"):
        assert f"stage {stage}:" in result.stdout
    assert fake.events, "progress reported to Tercen"
    assert fake_tercen.TOKEN not in result.stdout


def test_new_file_and_task_update_with_schema_ids_on_the_parent():
    projection = fake_tercen.crabs()
    with fake_tercen.FakeTercen(
        projection, file_result=False, schema_on_parent=True, properties=SMALL
    ) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    assert_png_result(fake, ["plot.png"])
    upload = fake.uploads[0]
    assert upload.document.name == "result"
    assert upload.document.projectId == "project-1"
    assert upload.document.size == len(upload.payload)
    assert upload.document.metadata.filemetadata.contentType == "application/octet-stream"
    (task,) = fake.updated_tasks
    assert task.runcomputationtask.fileResultId == upload.document.id


def test_pages_become_one_upload_of_several_images():
    projection = fake_tercen.crabs(rows=[], cols=["variable"], pages=["sex"])
    with fake_tercen.FakeTercen(projection, properties=SMALL) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    assert_png_result(fake, ["plot_M.png", "plot_F.png"])
    columns = fake_tercen.decode_result(fake.uploads[0].payload)
    assert columns["ggrs.sex"] == ("string", ["M", "F"])
    assert columns[".ri"][1] == [0, 1]


def test_real_projection_and_environment_variables():
    with fake_tercen.FakeTercen(fake_tercen.projection_sample(), properties=SMALL) as fake:
        env = environment(TERCEN_TASK_ID=fake_tercen.TASK_ID, TERCEN_URI=fake.uri,
                          TERCEN_TOKEN=fake_tercen.TOKEN)  # fmt: skip
        result = subprocess.run([sys.executable, "-m", "ggrs.operator"], capture_output=True,
                                text=True, env=env, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_png_result(fake, ["plot.png"])


@pytest.mark.parametrize(
    "faults",
    [
        fake_tercen.Faults(unavailable_streams=1),
        fake_tercen.Faults(cut_stream_after=2000),
    ],
    ids=["unavailable-first-stream", "stream-cut"],
)
def test_transient_faults_are_retried(faults):
    with fake_tercen.FakeTercen(
        fake_tercen.crabs(), faults=faults, fragment=500, properties=SMALL
    ) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    assert_png_result(fake, ["plot.png"])
    main_calls = [r.offset for r in fake.stream_calls if r.tableId == "qt-hash"]
    assert main_calls == [0, 0]
    assert "retrying" in result.stdout


def test_slow_server_fails_at_the_deadline():
    faults = fake_tercen.Faults(slow_seconds=2.0)
    with fake_tercen.FakeTercen(fake_tercen.crabs(), faults=faults) as fake:
        started = time.monotonic()
        result = run(fake, "--rpc_timeout=0.3")
        assert time.monotonic() - started < 10
    assert_failed(result, fake, "deadline")
    assert result.returncode == 1


def test_wrong_token():
    with fake_tercen.FakeTercen(fake_tercen.crabs()) as fake:
        result = run(fake, token="not-" + fake_tercen.TOKEN)
    assert_failed(result, fake, "refused the token")
    assert "not-" + fake_tercen.TOKEN not in result.stderr + result.stdout


def test_missing_y_table():
    faults = fake_tercen.Faults(missing_y_table=True)
    with fake_tercen.FakeTercen(fake_tercen.crabs(), faults=faults) as fake:
        result = run(fake)
    assert_failed(result, fake, "Y-axis table")
    # Reported to the task as well, so the user sees it in Tercen.
    assert any("Y-axis table" in e.tasklogevent.message for e in fake.events)


def test_malformed_tson():
    faults = fake_tercen.Faults(malformed_main=True)
    with fake_tercen.FakeTercen(fake_tercen.crabs(), faults=faults) as fake:
        result = run(fake)
    assert_failed(result, fake, "unreadable table")


def test_invalid_property_exits_2():
    with fake_tercen.FakeTercen(fake_tercen.crabs(), properties={"opacity": "2"}) as fake:
        result = run(fake)
    assert_failed(result, fake, "property opacity='2' is not valid")
    assert result.returncode == 2


def test_sigterm_stops_without_upload():
    faults = fake_tercen.Faults(slow_seconds=30.0)
    with fake_tercen.FakeTercen(fake_tercen.crabs(), faults=faults) as fake:
        process = start(fake)
        deadline = time.monotonic() + 20
        # Stop it while it waits on the (slow) server, as a cancelled Tercen task would.
        while fake.schema_requests == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=20)
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    assert_failed(result, fake, "stopped by SIGTERM")
    assert result.returncode == 143


def test_health_check():
    command = [sys.executable, "-m", "ggrs.operator", "--health-check"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "healthy" in result.stdout


def test_missing_flags():
    result = subprocess.run([sys.executable, "-m", "ggrs.operator"], capture_output=True,
                            text=True, env=environment(), timeout=60)  # fmt: skip
    assert result.returncode == 2
    assert "missing --taskId/TERCEN_TASK_ID" in result.stderr
