#!/usr/bin/env bash
# Prints the path of a clang++ that can build the fuzz targets, or nothing and
# exits 1. The project is C++23 on g++ 12's libstdc++, whose <expected> needs
# clang 16 or newer (see tests/fuzz/README.md): Debian 12's default clang (14)
# cannot build it, so the versioned names come first.
set -uo pipefail
for name in clang++-19 clang++-18 clang++-17 clang++-16 clang++; do
  path=$(command -v "$name" 2>/dev/null) || continue
  major=$("$path" -dumpversion 2>/dev/null | cut -d. -f1)
  [[ "$major" =~ ^[0-9]+$ ]] && ((major >= 16)) || continue
  # libFuzzer's runtime comes in a separate package (libclang-rt-N-dev).
  [[ -f $("$path" -print-file-name="libclang_rt.fuzzer-x86_64.a") ]] || continue
  echo "$path"
  exit 0
done
exit 1
