#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/CMakeLists.txt, clang with ASan + UBSan +
# libFuzzer) into build/fuzz, assembles the seed corpora in a temporary folder
# and runs every target in turn. Exits non-zero when a build fails or a target
# finds a crash, a leak, undefined behaviour, a timeout or a broken property;
# the crashing input and the log are kept in build/fuzz/artifacts/. Each
# target's log is in the corpus folder (--corpus) or the temporary one.
#
#   tests/fuzz/run.sh [--seconds N] [--runs N] [--targets "jcs rlp"] [--corpus DIR]
#                     [--build-dir DIR] [--jobs N] [--parallel]
#
#   --seconds N   time per target (default 15; 0: no limit, then give --runs)
#   --runs N      executions per target (default: no limit)
#   --targets L   which targets (default: all seven: envelope jcs digital_link
#                 epcis api checkpoint rlp)
#   --corpus DIR  keep each target's grown corpus in DIR/<target> across runs
#                 (default: a temporary folder, removed at the end)
#   --build-dir   where to build (default: build/fuzz in the repository)
#   --jobs N      build jobs (default: nproc)
#   --parallel    run the targets at the same time rather than one after another
#                 (long runs: nice -n 19 tests/fuzz/run.sh --seconds 0 --runs 10000000
#                 --parallel --corpus build/fuzz/corpus)
# Summary lines read "fuzz <target>: <runs> runs in <s> s (<runs/s>/s), corpus <n> inputs, ok".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
testdata="${TRACE_TESTDATA:-$root/../shared/testdata}"

seconds=15
runs=""
targets="envelope jcs digital_link epcis api checkpoint rlp"
corpus=""
build="$root/build/fuzz"
jobs=$(nproc)
parallel=0
while (($#)); do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --parallel) parallel=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "run.sh: --seconds wants a whole number" >&2; exit 2; }
[[ -z "$runs" || "$runs" =~ ^[0-9]+$ ]] || { echo "run.sh: --runs wants a whole number" >&2; exit 2; }
((seconds > 0)) || [[ -n "$runs" ]] || { echo "run.sh: --seconds 0 needs --runs" >&2; exit 2; }
[[ -d "$testdata" ]] || { echo "run.sh: no test data at $testdata" >&2; exit 2; }

clang=$("$here/find_clang.sh") || {
  echo "run.sh: no clang++ 16 or newer with libFuzzer (apt-get install clang-16 libclang-rt-16-dev)" >&2
  exit 2
}

# Build.
start=$SECONDS
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clang" >/dev/null
fi
cmake --build "$build" -j "$jobs" --target fuzz_all
echo "fuzz: build took $((SECONDS - start)) s"

# Seeds.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/trace-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
seeds="$tmp/seeds"
"$build/fuzz_seeds" "$seeds" "$testdata" >/dev/null
lit="$here/test_literals.pl"
src="$root/common/src"
"$lit" strings "$seeds/jcs" "$src/jcs_test.cc" >/dev/null
# Shared files under names made of their paths (jcs/input/x.json -> jcs-input-x.json).
copy_tree() {  # copy_tree TARGET DIR...: every file under DIR
  local target=$1 f rel
  shift
  mkdir -p "$seeds/$target"
  while IFS= read -r f; do
    rel=${f#"$testdata"/}
    cp "$f" "$seeds/$target/${rel//\//-}"
  done < <(find "$@" -type f \( -name '*.json' -o -name '*.jsonld' \))
}
copy_tree jcs "$testdata/jcs" "$testdata/merkle" "$testdata/epcis/examples"
copy_tree epcis "$testdata/epcis/examples"
"$lit" strings "$seeds/epcis" "$src/epcis_test.cc" >/dev/null
"$lit" strings "$seeds/digital_link" "$src/digital_link_test.cc" "$src/gs1_test.cc" "$src/epc_test.cc" >/dev/null
"$lit" strings "$seeds/checkpoint" "$src/checkpoint_test.cc" >/dev/null
"$lit" hex "$seeds/rlp" "$src/rlp_test.cc" "$src/eth_tx_test.cc" >/dev/null
# The envelope tests' JSON, as payloads with an empty topic (a leading newline).
"$lit" strings "$tmp/envelope-literals" "$src/envelope_test.cc" "$src/receipt_test.cc" \
  "$root/services/gateway/src/checker_test.cc" >/dev/null
for f in "$tmp"/envelope-literals/*; do { echo; cat "$f"; } >"$seeds/envelope/$(basename "$f")"; done
# The Digital Link tests' paths as requests to trace-api.
for f in "$seeds"/digital_link/test-*; do
  if [[ $(head -c1 "$f") == / ]] && ! grep -q $'\n' "$f"; then
    { printf 'GET '; cat "$f"; printf '\n'; } >"$seeds/api/$(basename "$f")"
  fi
done

# Inputs that once failed (tests/fuzz/regressions/<target>/), so every run replays them.
for d in "$here"/regressions/*/; do
  t=$(basename "$d")
  mkdir -p "$seeds/$t"
  cp "$d"* "$seeds/$t/"
done

mkdir -p "$build/artifacts"
# Stack traces with file and line: llvm-symbolizer beside clang, or any on the PATH.
symbolizer="$(dirname "$(readlink -f "$clang")")/llvm-symbolizer"
[[ -x "$symbolizer" ]] || symbolizer=$(command -v llvm-symbolizer || true)
[[ -n "$symbolizer" ]] && export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
# run_target T: runs target T, prints its summary line; non-zero on a finding.
run_target() {
  local t=$1 bin="$build/${1}_fuzz" grown log t0 n s
  grown="${corpus:+$corpus/$t}"
  grown="${grown:-$tmp/corpus/$t}"
  mkdir -p "$grown"
  local args=(-artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
              -max_len=65536)
  ((seconds > 0)) && args+=(-max_total_time="$seconds")
  [[ -n "$runs" ]] && args+=(-runs="$runs")
  log="${corpus:+$corpus/$t.log}"
  log="${log:-$tmp/$t.log}"
  t0=$SECONDS
  if "$bin" "${args[@]}" "$grown" "$seeds/$t" >"$log" 2>&1; then
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    s=$((SECONDS - t0))
    echo "fuzz $t: ${n:-?} runs in $s s ($(( ${n:-0} / (s > 0 ? s : 1) ))/s), corpus $(ls "$grown" | wc -l) inputs, ok"
  else
    cp "$log" "$build/artifacts/$t-$(date +%Y%m%dT%H%M%S).log"
    echo "fuzz $t: FAILED after $((SECONDS - t0)) s; the log's end (whole: $build/artifacts/$t-*.log):"
    grep -v '^#[0-9]' "$log" | tail -40
    return 1
  fi
}

for t in $targets; do
  [[ -x "$build/${t}_fuzz" ]] || { echo "run.sh: no target $t" >&2; exit 2; }
done
failed=()
if ((parallel)); then
  declare -A pids
  for t in $targets; do
    run_target "$t" >"$tmp/$t.summary" 2>&1 &
    pids[$t]=$!
  done
  for t in $targets; do
    wait "${pids[$t]}" || failed+=("$t")
    cat "$tmp/$t.summary"
  done
else
  for t in $targets; do
    run_target "$t" || failed+=("$t")
  done
fi
if ((${#failed[@]})); then
  echo "fuzz: failed: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz: all ${targets// /, } ok"
