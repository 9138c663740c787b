"""The operator process (``python -m ggrs.operator``) against the fake Tercen server.

Each case starts the real entry point in a subprocess, as Tercen starts the
container, and checks the documented outcome: the uploaded result decodes back
to PNG images of the reported size, or the run fails with one clear line on
stderr, a non-zero status and no upload.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from ggrs import palettes
from tests import fake_tercen_helpers as fake_tercen

SMALL = {"plot.width": "400", "plot.height": "300"}


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERCEN_")}
    # The child imports ggrs and the generated stubs from wherever this test found them.
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    env.update(extra)
    return env


def start(
    fake, *flags: str, token: str = fake_tercen.TOKEN, env: dict[str, str] | None = None, **popen
) -> subprocess.Popen:
    args = [sys.executable, "-m", "ggrs.operator", "--taskId", fake_tercen.TASK_ID,
            "--serviceUri", fake.uri, "--token", token, *flags]  # fmt: skip
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(**(env or {})), **popen,
    )  # fmt: skip


def run(
    fake, *flags: str, token: str = fake_tercen.TOKEN, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    process = start(fake, *flags, token=token, env=env)
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


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """Two self-signed certificates for 127.0.0.1: (key, cert) paths of "server" and "other"."""
    # ./bazelw installs openssl with the other test tools; missing, the test fails.
    openssl = shutil.which("openssl")
    assert openssl, "openssl is not installed (./bazelw installs it: apt-get install openssl)"
    folder = tmp_path_factory.mktemp("tls")
    made = {}
    for name in ("server", "other"):
        key, cert = folder / f"{name}.key", folder / f"{name}.crt"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            check=True, capture_output=True, timeout=30,
        )  # fmt: skip
        made[name] = (key, cert)
    return made


def test_tls_with_the_server_certificate_in_ssl_cert_file(certificates):
    key, cert = certificates["server"]
    tls = (key.read_bytes(), cert.read_bytes())
    with fake_tercen.FakeTercen(fake_tercen.crabs(), tls=tls, properties=SMALL) as fake:
        assert fake.uri.startswith("https://127.0.0.1:")
        result = run(fake, env={"SSL_CERT_FILE": str(cert)})
    assert result.returncode == 0, result.stderr
    assert_png_result(fake, ["plot.png"])


def test_tls_with_a_wrong_ca_fails_at_once_with_one_line(certificates):
    key, cert = certificates["server"]
    _, other = certificates["other"]
    tls = (key.read_bytes(), cert.read_bytes())
    with fake_tercen.FakeTercen(fake_tercen.crabs(), tls=tls) as fake:
        started = time.monotonic()
        result = run(fake, env={"SSL_CERT_FILE": str(other)})
        elapsed = time.monotonic() - started
    assert_failed(result, fake, "TLS certificate is not trusted")
    assert "SSL_CERT_FILE" in result.stderr
    assert result.returncode == 1
    assert elapsed < 15, "a certificate error is not retried"
    assert "retrying" not in result.stdout


def test_https_to_a_plaintext_server_names_the_handshake(certificates):
    _, cert = certificates["server"]
    with fake_tercen.FakeTercen(fake_tercen.crabs()) as fake:
        fake.uri = fake.uri.replace("http://", "https://")
        result = run(fake, env={"SSL_CERT_FILE": str(cert)})
    assert_failed(result, fake, "TLS handshake failed")
    assert "use http://" in result.stderr


def test_two_layers_render_into_one_image():
    with fake_tercen.FakeTercen(fake_tercen.layered(), properties=SMALL) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    (png,) = assert_png_result(fake, ["plot.png"]).values()
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    # The panels only (the legend on the right shows both colours in any case).
    panels = image[:, : image.shape[1] * 3 // 5].reshape(-1, 3)
    colours = {tuple(c) for c in np.unique(panels, axis=0).tolist()}
    # Without a colour factor each layer takes the next Palette-1 colour: both drawn.
    first, second = palettes.categorical_colors(2, "Palette-1")
    assert first in colours and second in colours


def _chart(chart, projection=None):
    projection = projection or fake_tercen.crabs()
    projection.chart = chart
    return projection


def render(projection, **properties) -> tuple[bytes, fake_tercen.FakeTercen]:
    """The one uploaded image of a successful run, and the fake that served it."""
    with fake_tercen.FakeTercen(projection, properties={**SMALL, **properties}) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    (image,) = assert_png_result(fake, ["plot.png"]).values()
    return image, fake


def pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def test_line_chart_differs_from_points():
    line, _ = render(_chart("line"))
    point, _ = render(_chart("point"))
    assert pixels(line) != pixels(point)


def test_bar_chart_from_the_real_projection():
    bars, fake = render(fake_tercen.projection_sample(chart="bar"))
    assert all(".y0s" in r.cnames for r in fake.stream_calls if r.tableId == "qt-hash")
    points, _ = render(fake_tercen.projection_sample(chart="point"))
    assert pixels(bars) != pixels(points)


def test_heatmap_cell_aggregation_reaches_the_engine():
    def heatmap(aggregation):
        projection = _chart("heatmap", fake_tercen.crabs(colour="measurement"))
        return render(projection, **{"heatmap.cell.aggregation": aggregation})[0]

    # 100 measurements per (sex, variable) cell: last, first, mean and median
    # colour the cells differently, so each mode gives its own picture.
    images = {how: pixels(heatmap(how)) for how in ("last", "first", "mean", "median")}
    assert len(set(images.values())) == 4


def test_continuous_palette_rescaled_to_quartiles():
    def projection(with_quartiles):
        ramp = fake_tercen.tercen_pb2.RampPalette(isUserDefined=False)
        ramp.properties.add(name="name", value="Viridis")
        ramp.doubleColorElements.add(color=-1, stringValue="0")
        ramp.doubleColorElements.add(color=-16776961, stringValue="1")
        served = fake_tercen.crabs(
            colour="measurement", palette=fake_tercen.tercen_pb2.EPalette(ramppalette=ramp)
        )
        if not with_quartiles:
            served.tables["color-table"].quartiles = {}
        return served

    rescaled, _ = render(projection(with_quartiles=True))
    # Without quartiles Viridis spans the elements' 0..1, so nearly every crab
    # (measurements 7-54) takes the last colour: the quartiles must change the image.
    spread, _ = render(projection(with_quartiles=False))
    assert pixels(rescaled) != pixels(spread)


@pytest.mark.parametrize("output", ["svg", "hsvg"])
def test_svg_output_is_uploaded_as_svg(output):
    properties = {**SMALL, "output.format": output, "filename": "crabs"}
    with fake_tercen.FakeTercen(fake_tercen.crabs(), properties=properties) as fake:
        result = run(fake)
    assert result.returncode == 0, result.stderr
    (upload,) = fake.uploads
    columns = fake_tercen.decode_result(upload.payload)
    assert columns["ggrs.mimetype"][1] == ["image/svg+xml"]
    images = fake_tercen.result_images(upload.payload)
    assert list(images) == ["crabs.svg"]
    assert b"<svg" in images["crabs.svg"][:500]
