#!/usr/bin/env bash
# GPU device check (issue 6): on a machine with an NVIDIA GPU, runs the GPU
# backend's tests and the GPU-vs-CPU benchmark, in well under 5 minutes.
#
# Usage (from anywhere): tools/gpu_check.sh [OUTDIR]
#   OUTDIR defaults to $OUT when set (the device tool's result folder), else
#   /tmp/gpu_check. It receives pytest.log, gpu_bench.log and gpu_bench.json.
#   GPU_CHECK_SIZES overrides the benchmark sizes (default 1e7,1e8,1e9).
#
# Needs python3 with numpy, pillow, pytest and CuPy. CuPy is NOT installed from
# the network (the device machine has none) and cannot be carried: the wheel of
# cupy-cuda12x 14.2.0 for CPython 3.11 is 137 MB, over the 64 MiB a device call
# carries. So the script uses the CuPy the machine already has (the H200 image
# ships cupy-cuda13x 14.2.0 for its Python 3.12). Wheels placed in .whl/ (git-
# ignored; carried with `carry: [".whl"]`) are installed first, for the small
# pure-Python packages a machine may lack. Without a CuPy it stops with exit 3.
#
# Exit status: 0 all passed; 1 tests failed or were skipped; 2 benchmark failed;
# 3 CuPy or another prerequisite is missing.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-/tmp/gpu_check}}
mkdir -p "$out"
python=${PYTHON:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
start=$SECONDS

echo "== machine"
nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv 2>&1 || echo "nvidia-smi not available"
"$python" --version

if compgen -G ".whl/*.whl" >/dev/null; then
  echo "== installing carried wheels from .whl/"
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/gpu_check_site .whl/*.whl || exit 3
  export PYTHONPATH="$PYTHONPATH:/tmp/gpu_check_site"
fi

echo "== prerequisites"
if ! "$python" - <<'EOF'
import importlib.util, sys
missing = [m for m in ("numpy", "PIL", "pytest") if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f"missing Python packages: {', '.join(missing)}; carry their wheels in .whl/")
if importlib.util.find_spec("cupy") is None:
    sys.exit(
        "CuPy is not installed on this machine and cannot be carried (cupy-cuda12x's "
        "wheel is 137 MB, over the 64 MiB a device call carries); use a machine image "
        "that ships CuPy"
    )
import cupy, numpy
print(f"cupy {cupy.__version__}, numpy {numpy.__version__}")
EOF
then
  exit 3
fi

echo "== probe"
"$python" -c 'from ggrs.aggregate import gpu_backend as g; s = g.gpu_status(); print(s); raise SystemExit(0 if s.available else 3)' || exit 3

echo "== tests (tests/aggregate/test_gpu_backend.py)"
status=0
timeout 90 "$python" -m pytest -q -rs -p no:cacheprovider tests/aggregate/test_gpu_backend.py 2>&1 | tee "$out/pytest.log"
rc=${PIPESTATUS[0]}
if [[ $rc -ne 0 ]]; then
  echo "GPU tests FAILED (pytest exit $rc)"
  status=1
elif grep -q "skipped" "$out/pytest.log"; then
  echo "GPU tests were SKIPPED on a GPU machine: the probe above says why"
  status=1
fi

echo "== benchmark (benchmarks/gpu_bench.py)"
timeout 180 "$python" benchmarks/gpu_bench.py --sizes="${GPU_CHECK_SIZES:-1e7,1e8,1e9}" --repeats=3 \
  --json="$out/gpu_bench.json" 2>&1 | tee "$out/gpu_bench.log"
rc=${PIPESTATUS[0]}
if [[ $rc -ne 0 ]]; then
  echo "benchmark FAILED (exit $rc; 124 = over its 180 s)"
  [[ $status -eq 0 ]] && status=2
fi
echo "== done in $((SECONDS - start)) s, status $status"
exit "$status"
