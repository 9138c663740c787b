#!/usr/bin/env bash
# Checks that //docker:image is reproducible: builds it here, then builds it
# again from a copy of the checkout at another path with a fresh Bazel output
# base (nothing cached but the downloads), and compares the manifest digests.
#
# Usage: docker/check_reproducible.sh
#   BAZEL_STARTUP="--output_base=DIR"  startup flags for the first build (optional)
# Exit status 0 when the digests match, 1 when they differ, 3 when the
# checkout changed during the check (the comparison would mean nothing).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
copy="$work/elsewhere/ggrs"
base="$work/output_base"
cleanup() {
  # Stop the second Bazel server (it holds files under $work) before removing.
  if [[ -d $copy ]]; then (cd "$copy" && ./bazelw --output_base="$base" shutdown) 2>/dev/null || true; fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

build() {  # build DIR STARTUP_FLAGS... → prints the digest file's path
  local dir=$1
  shift
  # No convenience links: the checkout's .bazel/ may point at someone's output base.
  (cd "$dir" && ./bazelw "$@" build //docker:image --symlink_prefix=/ >&2)
  echo "$(cd "$dir" && ./bazelw "$@" info bazel-bin 2>/dev/null)/docker"
}

sources() {  # a hash of the files git would check out (tracked plus new, not ignored)
  (cd "$1" && git -C "$repo" ls-files -z --cached --others --exclude-standard |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

# Copy those files to another path first, then build here.
mkdir -p "$copy"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$repo" && xargs -0 cp --parents -t "$copy")
# shellcheck disable=SC2086  # BAZEL_STARTUP is a list of flags
first=$(build "$repo" ${BAZEL_STARTUP:-})
if [[ $(sources "$repo") != $(sources "$copy") ]]; then
  echo "the checkout changed while the check ran (someone editing?); run it again" >&2
  exit 3
fi
start=$SECONDS
second=$(build "$copy" --output_base="$base")
echo "second build (fresh output base, other path): $((SECONDS - start)) s" >&2

a=$(cat "$first/image.digest")
b=$(cat "$second/image.digest")
echo "here:      $a"
echo "elsewhere: $b"
if [[ $a != "$b" ]]; then
  echo "NOT reproducible; layer digests (here / elsewhere):"
  for f in "$first"/image.layers/*.diffid; do
    echo "  $(basename "$f"): $(cat "$f") / $(cat "$second/image.layers/$(basename "$f")")"
  done
  exit 1
fi
echo "reproducible"
