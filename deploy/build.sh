#!/usr/bin/env bash
# Setup, then configure and build into ./build (Release, with tests). Incremental.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/deploy/setup.sh"
cd "$root"
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRACE_BUILD_TESTS=ON >/dev/null
fi
cmake --build build -j "$(nproc)"
