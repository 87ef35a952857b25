#!/usr/bin/env bash
# Builds, then runs every test through ctest. Extra arguments go to ctest
# (for example `-L unit` or `-R gateway`). Exits non-zero on any failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/build.sh"
cd "$root/build"
# Most system tests wait on servers rather than compute, so one more job than cores.
ctest --output-on-failure -j "$(($(nproc) + 1))" "$@"
