#!/usr/bin/env bash
# Builds, then runs every test through ctest. Extra arguments go to ctest
# (for example `-L unit` or `-R gateway`). Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" "$@"
