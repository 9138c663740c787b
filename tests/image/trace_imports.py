"""Regenerates docker/traced_modules.txt and docker/traced_stdlib_modules.txt.

Runs ggrs's workloads (1e6-point datashader aggregations, CLI renders of
Parquet/Arrow/CSV files and the demo, the engine/aggregate/golden/io/operator
test suites) with /usr/bin/python3.11 against an unpacked //docker:site layer,
records sys.modules at every interpreter's exit and writes the modules whose
file lies in that site-packages (--out), and the standard-library modules
loaded from a .py file of /usr/lib/python3.11 (--stdlib-out; frozen modules,
which the interpreter never reads from disk, and extension modules are left
out). The interpreter is a bare venv of it, so, as in the image, no Debian
dist-packages (e.g. python3-yaml) are importable.
Not a test; run it by hand from the repo root:

  bazel build //docker:site
  mkdir /tmp/site && tar xf .bazel/bin/docker/site.tar -C /tmp/site
  python tests/image/trace_imports.py --site /tmp/site/opt/ggrs/site-packages \\
      --path STUBS --path FONTS --path PYTEST

STUBS holds the generated proto/tercen_pb2*.py (.bazel/bin), FONTS the
ggrs_fonts package and PYTEST only pytest and its dependencies (_pytest, py.py,
pluggy, iniconfig, pygments: links into a dev venv), since other packages there could
make the site's modules import optional extras the image lacks. They come
after the site on sys.path.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

_HOOK = """
import atexit, os, sys
def _dump():
    with open(os.path.join(os.environ["TRACE_OUT"], f"{os.getpid()}.mods"), "w") as f:
        for name, m in list(sys.modules.items()):
            origin = getattr(getattr(m, "__spec__", None), "origin", None)
            f.write(f"{name}\\t{getattr(m, '__file__', None)}\\t{origin}\\n")
atexit.register(_dump)
"""

_WORKLOAD = """
import os, subprocess, sys, tempfile
import numpy as np, pyarrow as pa, pyarrow.csv, pyarrow.feather, pyarrow.parquet
from ggrs.aggregate import Canvas, Points, aggregate
rng = np.random.default_rng(0)
n = 1_000_000
x, y, panel = rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, n)
cv = Canvas(400, 300, (-5, 5), (-5, 5))
aggregate(Points(x, y), cv, backend="datashader")
aggregate(Points(x, y, category=rng.integers(0, 5, n)), cv, backend="datashader")
aggregate(Points(x, y, value=rng.normal(size=n)), cv, backend="datashader")
cv4 = Canvas(100, 80, [(-5, 5)] * 4, [(-5, 5)] * 4)
aggregate(Points(x, y, panel=panel, category=panel), cv4, backend="datashader")
d = tempfile.mkdtemp()
t = pa.table({"x": x, "y": y, "g": np.array(list("abcd"))[panel], "v": rng.normal(size=n)})
pa.parquet.write_table(t, f"{d}/t.parquet")
pa.feather.write_feather(t, f"{d}/t.arrow")
pa.csv.write_csv(t.slice(0, 100000), f"{d}/t.csv")
for inp, extra in [("t.parquet", ["--color=g"]), ("t.arrow", ["--color=v", "--cols=g"]),
                   ("t.csv", ["--color=g", "--pages=g"])]:
    subprocess.run([sys.executable, "-m", "ggrs.render", f"--input={d}/{inp}", "--x=x", "--y=y",
                    *extra, f"--output={d}/o.png"], check=True)
subprocess.run([sys.executable, "-m", "ggrs.render", "--demo", f"--output={d}/d.png"], check=True)
"""

# Where Debian's python3.11 keeps its standard library (the same in the image).
STDLIB = "/usr/lib/python3.11/"

_SUITES = ["tests/engine", "tests/aggregate", "tests/golden", "tests/io", "tests/operator"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", required=True, help="unpacked opt/ggrs/site-packages")
    parser.add_argument("--path", action="append", default=[], help="more sys.path entries")
    parser.add_argument("--out", default="docker/traced_modules.txt")
    parser.add_argument("--stdlib-out", default="docker/traced_stdlib_modules.txt")
    args = parser.parse_args()
    site = f"{Path(args.site).resolve()}/"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hook").mkdir()
        Path(tmp, "hook/sitecustomize.py").write_text(_HOOK)
        Path(tmp, "out").mkdir()
        paths = [f"{tmp}/hook", str(Path.cwd()), site, *(str(Path(p).resolve()) for p in args.path)]
        env = dict(os.environ, PYTHONPATH=":".join(paths), TRACE_OUT=f"{tmp}/out")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        subprocess.run(
            ["/usr/bin/python3.11", "-m", "venv", "--without-pip", f"{tmp}/venv"], check=True
        )
        python = [f"{tmp}/venv/bin/python"]
        subprocess.run([*python, "-c", _WORKLOAD], env=env, check=True)
        subprocess.run(
            [*python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *_SUITES], env=env, check=True
        )
        names: set[str] = set()
        stdlib: set[str] = set()
        for dump in Path(tmp, "out").glob("*.mods"):
            for line in dump.read_text().splitlines():
                name, path, origin = line.split("\t")
                if stdlib_module(name, path, origin):
                    stdlib.add(name)
                if not path.startswith(site):
                    continue
                rel, base = path[len(site) :], name.replace(".", "/")
                # Skip aliases (requests.packages.*, Cython's shared _cyutility).
                if rel in (f"{base}.py", f"{base}/__init__.py") or re.fullmatch(
                    re.escape(base) + r"\.(cpython-311-x86_64-linux-gnu|abi3)\.so", rel
                ):
                    names.add(name)
    for out, found in [(Path(args.out), names), (Path(args.stdlib_out), stdlib)]:
        header = [line for line in out.read_text().splitlines() if line.startswith("#")]
        out.write_text("\n".join([*header, *sorted(found)]) + "\n")
        print(f"{len(found)} modules → {out}", file=sys.stderr)


def stdlib_module(name: str, path: str, origin: str) -> bool:
    """Whether a traced module is a standard-library module read from its .py file.

    Args:
      name: the key in sys.modules.
      path: the module's __file__ ("None" if it has none).
      origin: its spec's origin ("frozen" for the modules the interpreter
        carries compiled in, which never read a .pyc).
    """
    if origin != path or not path.startswith(STDLIB) or not path.endswith(".py"):
        return False
    rel = path[len(STDLIB) : -len(".py")]
    if rel.startswith(("lib-dynload/", "dist-packages/", "site-packages/")):
        return False
    # Skip aliases (os.path is posixpath): the name must match the file.
    return rel.removesuffix("/__init__") == name.replace(".", "/")


if __name__ == "__main__":
    main()
