#!/usr/bin/env bash
# Regenerates the hash-pinned pip locks from requirements_runtime.in,
# requirements_dev.in and requirements_gpu.in for Debian's Python 3.11 (the
# interpreter of the build and the image). Usage: third_party/pip/update_locks.sh [--upgrade]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
"$venv/bin/pip" install --isolated --quiet --index-url https://pypi.org/simple pip-tools==7.6.2
compile() {
  # --isolated and the explicit index keep machine-local pip settings (extra
  # indexes, find-links folders) out of the lock.
  (cd "$here" && PIP_CONFIG_FILE=/dev/null "$venv/bin/pip-compile" --quiet --generate-hashes --allow-unsafe \
    --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
    --pip-args "--isolated --only-binary=:all:" --index-url https://pypi.org/simple \
    "$@")
}
compile "${@}" --output-file requirements_runtime_lock.txt requirements_runtime.in
compile "${@}" --output-file requirements_lock.txt requirements_dev.in
# The GPU image variant's extras (CuPy for CUDA 12 and NVRTC), constrained to the
# runtime lock; only //docker/gpu:image (tagged manual) downloads them.
compile "${@}" --output-file requirements_gpu_lock.txt requirements_gpu.in
echo "locks written to $here"
