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
from image_helpers import (
    LAYOUT,
    TARBALL,
    built_digest,
    elf_section_names,
    image_tag,
    require_root,
    run,
    tool,
)
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
    # Pruned from the base (BASE_EXCLUDES): iconv modules, CPython's tests.
    assert not list((root / "usr/lib/x86_64-linux-gnu/gconv").glob("*"))
    assert not list((root / "usr/lib/python3.11/lib-dynload").glob("_testcapi*"))
    assert list((root / "usr/lib/python3.11/lib-dynload").glob("_decimal*"))
    # Pruned: test suites, headers, scipy; kept: bytecode compiled for image paths.
    assert not (root / SITE / "pandas/tests").exists()
    assert not (root / SITE / "pyarrow/include").exists()
    assert not (root / SITE / "scipy").exists()
    assert not (root / SITE / "scipy.libs").exists()
    assert not list((root / SITE).glob("scipy-*.dist-info"))
    assert not list((root / SITE / "pillow.libs").glob("libavif-*"))
    assert not list((root / SITE / "pillow.libs").glob("libwebp*"))
    assert (root / SITE / "numba/cuda").is_dir(), "numba imports numba.cuda at import"
    pyc = root / "opt/ggrs/app/ggrs/__pycache__/render.cpython-311.pyc"
    flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
    assert flags == 0b01, "expected an unchecked hash-based .pyc"
    assert b"/opt/ggrs/app/ggrs/render.py" in pyc.read_bytes()
    # The standard library's too (docker/traced_stdlib_modules.txt), next to its sources.
    stdlib = root / "usr/lib/python3.11"
    pyc = stdlib / "__pycache__/argparse.cpython-311.pyc"
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b01
    assert b"/usr/lib/python3.11/argparse.py" in pyc.read_bytes()
    assert (stdlib / "argparse.py").is_file(), "sources stay, for tracebacks"


def test_site_libraries_are_stripped(bundle: Path) -> None:
    """strip --strip-unneeded ran over the site layer's ELF files (see docker/BUILD.bazel)."""
    site = bundle / "rootfs" / SITE
    for lib in [
        site / "llvmlite/binding/libllvmlite.so",
        site / "pyarrow/libarrow.so.2600",
        next((site / "pyarrow").glob("lib.*.so")),
    ]:
        sections = elf_section_names(lib)
        assert ".symtab" not in sections, f"{lib.name} still has its static symbol table"
        assert not any(s.startswith(".debug") for s in sections), lib.name
        assert ".dynsym" in sections, f"{lib.name} lost its dynamic symbols"
    # libllvmlite.so ships at 178.7 MB with its symbol table, 159.8 MB without.
    assert (site / "llvmlite/binding/libllvmlite.so").stat().st_size < 165_000_000


# Asks the image's own dynamic loader to resolve every ELF file's libraries:
# shows that no exclusion removed a library something still links, and that
# strip left every library loadable.
_LDD_ALL = """
import json, os, subprocess
missing, checked = {}, 0
for top in ["/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/opt/ggrs"]:
    for root, _, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as f:
                head = f.read(18)
            if head[:4] != b"\\x7fELF" or head[16] not in (2, 3):
                continue
            res = subprocess.run(["/lib64/ld-linux-x86-64.so.2", "--list", path],
                                 capture_output=True, text=True)
            checked += 1
            lost = [line.strip() for line in res.stdout.splitlines() if "not found" in line]
            if lost or res.returncode != 0:
                missing[path] = lost or res.stderr.strip()[-300:]
print(json.dumps({"checked": checked, "missing": missing}))
"""


def test_runc_every_elf_file_finds_its_libraries(bundle: Path) -> None:
    out = runc_run(bundle, ["/usr/bin/python3.11", "-c", _LDD_ALL], "ldd")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["checked"] > 150
    assert result["missing"] == {}


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


# Renders the demo once per chart kind that `ggrs.render --help` offers.
_CHARTS = """
import json, re, subprocess, sys
render = [sys.executable, "-m", "ggrs.render"]
helped = subprocess.run([*render, "--help"], capture_output=True, text=True)
found = re.search(r"--chart: <([^>]+)>", helped.stdout + helped.stderr)
charts = found.group(1).split("|") if found else []
results = {}
for chart in charts:
    args = ["--demo", f"--chart={chart}", f"--output=/tmp/chart-{chart}.png", "--quiet"]
    res = subprocess.run([*render, *args], capture_output=True, text=True)
    results[chart] = {"rc": res.returncode, "stderr": res.stderr[-800:]}
print(json.dumps(results))
"""

# The chart kinds of the pipeline (ggrs/geoms.py CHARTS). Each must be offered
# by --help and render in the image: that is what shows the pruning of
# docker/BUILD.bazel left nothing a chart needs out.
CHART_KINDS = ["point", "line", "bar", "heatmap"]


def test_runc_renders_every_chart_kind(bundle: Path) -> None:
    out = runc_run(bundle, ["/usr/bin/python3.11", "-c", _CHARTS], "charts")
    results = json.loads(out.strip().splitlines()[-1])
    assert sorted(results) == sorted(CHART_KINDS), "--help lists other chart kinds"
    failed = {chart: r["stderr"] for chart, r in results.items() if r["rc"] != 0}
    assert failed == {}, "a chart kind does not render in the image"
    for chart in CHART_KINDS:
        with Image.open(bundle / f"rootfs/tmp/chart-{chart}.png") as img:
            assert img.format == "PNG"
            colors = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colors is not None
        assert len(colors) > 20, f"the {chart} chart looks blank"


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
import importlib.util
jit = numba.njit(lambda n: sum(range(n)))(10)
# datashader's parallel kernels run on numba's workqueue threading layer (the
# TBB and OpenMP ones are pruned: their runtimes are not in the image).
parallel = numba.njit(parallel=True)(lambda a: a.sum())(np.ones(1000))
rng = np.random.default_rng(0)
x, y, cat = rng.normal(size=100_000), rng.normal(size=100_000), rng.integers(0, 3, 100_000)
one, three = Canvas(64, 48, (-4, 4), (-4, 4)), Canvas(64, 48, [(-4, 4)] * 3, [(-4, 4)] * 3)
cases = [
    (Points(x, y), one),
    (Points(x, y, category=cat), one),
    (Points(x, y, value=x), one),
    (Points(x, y, panel=cat, category=cat), three),
]
sums = [int(aggregate(p, c, backend="datashader").count.sum()) for p, c in cases]
# The compiled kernels (built on the build host, run on the image's libc).
native = [int(aggregate(p, c, backend="native").count.sum()) for p, c in cases]
PIL.Image.init()  # every format plugin, AVIF's without its pruned codec
print(json.dumps({
    "uid": os.getuid(), "certs": certs, "jit": jit, "sums": sums, "native": native,
    "parallel": parallel, "threading": numba.threading_layer(),
    "scipy": importlib.util.find_spec("scipy") is not None,
    "avif": PIL.features.check("avif"), "webp": PIL.features.check("webp"),
    "littlecms2": PIL.features.check("littlecms2"), "freetype2": PIL.features.check("freetype2"),
    "plugins": len(PIL.Image.ID),
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
    assert facts["parallel"] == 1000
    assert facts["threading"] == "workqueue"
    assert facts["jemalloc"] is True
    assert "datashader" in facts["backends"]
    assert "native" in facts["backends"]
    assert facts["native"] == facts["sums"]
    assert facts["tz"] == "Europe/Berlin"
    assert facts["font"] is True
    assert all(s > 90_000 for s in facts["sums"]), facts["sums"]
    # Pruned: scipy (numba and datashader work without it), Pillow's AVIF,
    # WebP and littleCMS codecs (reported as unsupported rather than failing).
    assert facts["scipy"] is False
    assert facts["avif"] is False
    assert facts["webp"] is False
    assert facts["littlecms2"] is False
    assert facts["freetype2"] is True, "text drawing needs Pillow's FreeType"
    assert facts["plugins"] > 20


# docker/traced_modules.txt: what ggrs was traced to import (see its header).
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
    lines = Path("docker/traced_modules.txt").read_text().splitlines()
    names = [line for line in lines if line and not line.startswith("#")]
    assert len(names) > 1000
    args = ["/usr/bin/python3.11", "-c", _IMPORT_ALL, *names]
    out = runc_run(bundle, args, "import-all")
    result = json.loads(out.strip().splitlines()[-1])
    assert result["failed"] == {}, "SITE_EXCLUDES removed modules ggrs loads"
    assert result["imported"] == len(names)


# Imports each entry module in a fresh interpreter (ggrs.operator and
# ggrs.render both define --verbose, so not together) and lists the
# standard-library modules it read from source for want of a .pyc.
_UNCOMPILED = """
import json, subprocess, sys
probe = '''
import importlib.util, json, os, sys
import MODULE
print(json.dumps(sorted(
    name for name, m in list(sys.modules.items())
    if (getattr(m, "__file__", None) or "").startswith("/usr/lib/python3.11/")
    and m.__file__.endswith(".py")
    and getattr(getattr(m, "__spec__", None), "origin", None) == m.__file__
    and not os.path.exists(importlib.util.cache_from_source(m.__file__))
)))
'''
found = {}
for module in ["ggrs.operator", "ggrs.render"]:
    res = subprocess.run([sys.executable, "-c", probe.replace("MODULE", module)],
                         capture_output=True, text=True, check=True)
    found[module] = json.loads(res.stdout.strip().splitlines()[-1])
print(json.dumps(found))
"""


def test_runc_entry_modules_find_stdlib_bytecode(bundle: Path) -> None:
    """The base layer's stdlib .pyc cover what the entrypoints import (fast start)."""
    out = runc_run(bundle, ["/usr/bin/python3.11", "-c", _UNCOMPILED], "stdlib-pyc")
    found = json.loads(out.strip().splitlines()[-1])
    # Debian's sitecustomize.py links into /etc; it only tries an import.
    assert found == {"ggrs.operator": ["sitecustomize"], "ggrs.render": ["sitecustomize"]}, (
        "regenerate docker/traced_stdlib_modules.txt with tests/image/trace_imports.py"
    )


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
