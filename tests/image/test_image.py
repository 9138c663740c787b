"""The built image, checked with independent tools and run with runc.

skopeo reads the layout and the tarball, umoci unpacks it into an OCI runtime
bundle, and runc runs the bundle as root: it renders the demo plot, imports
every module ggrs can load (which is what shows the site-packages pruning in
docker/BUILD.bazel left nothing needed out), runs the entrypoint's
--health-check, and runs the operator as Tercen would against the fake Tercen
server on 127.0.0.1 (the container shares the host's network for that).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_helpers import LAYOUT, TARBALL, built_digest, image_tag, require_root, run, tool
from PIL import Image

from tests import fake_tercen_helpers as fake_tercen

ENTRYPOINT = ["/usr/bin/python3.11", "-m", "ggrs.operator"]
SITE = "opt/ggrs/site-packages"


def _version() -> str:
    text = Path("ggrs/__init__.py").read_text()
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    """The image unpacked by umoci into a runtime bundle (removed afterwards)."""
    require_root()
    umoci = tool("umoci")
    with tempfile.TemporaryDirectory(prefix="ggrs-bundle-") as tmp:
        # umoci wants a writable layout; Bazel's outputs are read-only.
        layout = Path(tmp, "layout")
        shutil.copytree(LAYOUT, layout)
        run([umoci, "unpack", "--image", f"{layout}:{image_tag()}", f"{tmp}/bundle"])
        yield Path(tmp, "bundle")


def runc_run(bundle: Path, args: list[str], name: str, host_network: bool = False) -> str:
    """Runs `args` in the bundle with runc (config otherwise as built); returns stdout.

    Args:
      bundle: the unpacked image.
      args: the process to run instead of the image's entrypoint.
      name: part of the container id.
      host_network: share the host's network namespace (to reach a server
        the test started on 127.0.0.1).
    """
    runc = tool("runc")
    config_path = bundle / "config.json"
    original = config_path.read_text()
    config = json.loads(original)
    config["process"]["terminal"] = False
    config["process"]["args"] = args
    if host_network:
        namespaces = config["linux"]["namespaces"]
        config["linux"]["namespaces"] = [n for n in namespaces if n["type"] != "network"]
    config_path.write_text(json.dumps(config))
    container = f"ggrs-test-{name}-{os.getpid()}"
    with tempfile.TemporaryDirectory(prefix="ggrs-runc-") as state:
        try:
            return run([runc, "--root", state, "run", "--bundle", str(bundle), container]).stdout
        finally:
            run([runc, "--root", state, "delete", "--force", container])
            config_path.write_text(original)


def test_skopeo_inspects_layout_and_tarball() -> None:
    skopeo = tool("skopeo")
    tag = image_tag()
    assert tag == _version()
    info = json.loads(run([skopeo, "inspect", f"oci:{LAYOUT}:{tag}"]).stdout)
    assert info["Digest"] == built_digest()
    assert info["Labels"]["org.opencontainers.image.version"] == _version()
    assert info["Labels"]["org.opencontainers.image.source"].startswith("https://")
    assert len(info["Layers"]) == 4
    from_tar = json.loads(run([skopeo, "inspect", f"oci-archive:{TARBALL}:{tag}"]).stdout)
    assert from_tar["Digest"] == built_digest()
    config = json.loads(run([skopeo, "inspect", "--config", f"oci:{LAYOUT}:{tag}"]).stdout)
    assert config["created"] == "1970-01-01T00:00:00Z"
    cfg = config["config"]
    assert cfg["User"] == "1000:1000"
    assert cfg["Entrypoint"] == ENTRYPOINT
    assert cfg["WorkingDir"] == "/opt/ggrs"
    env = dict(e.split("=", 1) for e in cfg["Env"])
    assert env["PYTHONPATH"] == f"/opt/ggrs/app:/{SITE}"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["LD_PRELOAD"] == "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
    assert env["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    assert "MALLOC_CONF" in env


def test_umoci_bundle_runs_as_nonroot(bundle: Path) -> None:
    process = json.loads((bundle / "config.json").read_text())["process"]
    assert process["user"]["uid"] == 1000
    assert process["user"]["gid"] == 1000
    assert process["cwd"] == "/opt/ggrs"
    assert process["args"] == ENTRYPOINT


def test_rootfs_has_what_package_scripts_would_make(bundle: Path) -> None:
    root = bundle / "rootfs"
    assert "nonroot:x:1000:1000:" in (root / "etc/passwd").read_text()
    assert stat.S_IMODE((root / "tmp").lstat().st_mode) == 0o1777
    home = (root / "home/nonroot").lstat()
    assert (home.st_uid, home.st_gid) == (1000, 1000)
    assert (root / "bin").readlink().as_posix() == "usr/bin"
    assert (root / "usr/bin/python3").readlink().as_posix() == "python3.11"
    cert_link = (root / "usr/lib/ssl/cert.pem").readlink().as_posix()
    assert cert_link == "/etc/ssl/certs/ca-certificates.crt"
    bundle_pem = (root / "etc/ssl/certs/ca-certificates.crt").read_text()
    assert bundle_pem.count("BEGIN CERTIFICATE") > 100
    assert (root / "var/lib/dpkg/status.d/libc6").is_file()
    # Pruned: test suites and headers; kept: bytecode compiled for image paths.
    assert not (root / SITE / "pandas/tests").exists()
    assert not (root / SITE / "pyarrow/include").exists()
    assert not (root / SITE / "scipy/stats").exists()
    assert not list((root / SITE / "pillow.libs").glob("libavif-*"))
    assert (root / SITE / "scipy/linalg").is_dir(), "numba's np.linalg needs scipy.linalg"
    pyc = root / "opt/ggrs/app/ggrs/__pycache__/render.cpython-311.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01, "expected an unchecked hash-based .pyc"
    assert b"/opt/ggrs/app/ggrs/render.py" in pyc.read_bytes()


def test_runc_renders_the_demo(bundle: Path) -> None:
    out = bundle / "rootfs/tmp/demo.png"
    out.unlink(missing_ok=True)
    args = ["/usr/bin/python3.11", "-m", "ggrs.render", "--demo", "--output=/tmp/demo.png"]
    runc_run(bundle, [*args, "--quiet"], "demo")
    with Image.open(out) as img:
        assert img.format == "PNG"
        assert img.width > 500
        assert img.height > 300
        colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None
    assert len(colors) > 20, "the plot looks blank"


_SMOKE = """
import json, os, ssl, sys, zoneinfo
os.environ.pop("SSL_CERT_FILE")  # the /usr/lib/ssl links alone must find the CAs
certs = len(ssl.create_default_context().get_ca_certs())
import ggrs.io, ggrs.pipeline, ggrs.render, ggrs_fonts
from ggrs.aggregate import datashader_backend, registry
import pyarrow.csv, pyarrow.feather, pyarrow.ipc, pyarrow.parquet, pyarrow.fs, pyarrow.dataset
import datashader, grpc, numba, pandas, PIL.Image
from proto import tercen_pb2, tercen_pb2_grpc
import numpy as np, PIL.features
from ggrs.aggregate import Canvas, Points, aggregate
jit = numba.njit(lambda n: sum(range(n)))(10)
# numba's np.linalg support calls LAPACK through scipy.linalg.cython_lapack.
det = numba.njit(lambda a: np.linalg.det(a))(np.eye(3) * 2.0)
rng = np.random.default_rng(0)
x, y, cat = rng.normal(size=100_000), rng.normal(size=100_000), rng.integers(0, 3, 100_000)
one, three = Canvas(64, 48, (-4, 4), (-4, 4)), Canvas(64, 48, [(-4, 4)] * 3, [(-4, 4)] * 3)
sums = [
    int(aggregate(points, canvas, backend="datashader").count.sum())
    for points, canvas in [
        (Points(x, y), one),
        (Points(x, y, category=cat), one),
        (Points(x, y, value=x), one),
        (Points(x, y, panel=cat, category=cat), three),
    ]
]
PIL.Image.init()  # every format plugin, AVIF's without its pruned codec
print(json.dumps({
    "uid": os.getuid(), "certs": certs, "jit": jit, "det": det, "sums": sums,
    "avif": PIL.features.check("avif"), "plugins": len(PIL.Image.ID),
    "jemalloc": "libjemalloc" in open("/proc/self/maps").read(),
    "backends": list(registry.available_backends()),
    "tz": str(zoneinfo.ZoneInfo("Europe/Berlin")),
    "font": ggrs_fonts.REGULAR.is_file(),
}))
"""


def test_runc_imports_everything_ggrs_loads(bundle: Path) -> None:
    out = runc_run(bundle, ["/usr/bin/python3.11", "-c", _SMOKE], "smoke")
    facts = json.loads(out.strip().splitlines()[-1])
    assert facts["uid"] == 1000
    assert facts["certs"] > 100
    assert facts["jit"] == 45
    assert facts["jemalloc"] is True
    assert "datashader" in facts["backends"]
    assert facts["tz"] == "Europe/Berlin"
    assert facts["font"] is True
    assert facts["det"] == pytest.approx(8.0)
    assert all(s > 90_000 for s in facts["sums"]), facts["sums"]
    # Pruned: Pillow's AVIF codec, reported as unsupported rather than failing.
    assert facts["avif"] is False
    assert facts["plugins"] > 20


# tests/image/traced_modules.txt: what ggrs was traced to import (see its header).
_IMPORT_ALL = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except BaseException as e:
        failed[name] = f"{type(e).__name__}: {e}"[:300]
print(json.dumps({"imported": len(sys.argv) - 1, "failed": failed}))
"""


def test_runc_imports_every_module_ggrs_was_traced_to_load(bundle: Path) -> None:
    lines = Path("tests/image/traced_modules.txt").read_text().splitlines()
    names = [line for line in lines if line and not line.startswith("#")]
    assert len(names) > 1000
    args = ["/usr/bin/python3.11", "-c", _IMPORT_ALL, *names]
    out = runc_run(bundle, args, "import-all")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["failed"] == {}, "SITE_EXCLUDES removed modules ggrs loads"
    assert result["imported"] == len(names)


def test_runc_entrypoint_health_check(bundle: Path) -> None:
    out = runc_run(bundle, [*ENTRYPOINT, "--health-check"], "health")
    assert "healthy" in out


def test_runc_operator_run_uploads_the_png_to_fake_tercen(bundle: Path) -> None:
    """The image's entrypoint, as Tercen starts it, against the fake Tercen server."""
    projection = fake_tercen.crabs()
    with fake_tercen.FakeTercen(projection, properties={"filename": "crabs"}) as fake:
        args = [*ENTRYPOINT, "--taskId", fake_tercen.TASK_ID, "--serviceUri", fake.uri]
        out = runc_run(bundle, [*args, "--token", fake_tercen.TOKEN], "operator", True)
    assert fake_tercen.TOKEN not in out
    assert len(fake.uploads) == 1, "exactly one upload, holding every page"
    images = fake_tercen.result_images(fake.uploads[0].payload)
    assert images
    for png in images.values():
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.width > 100
