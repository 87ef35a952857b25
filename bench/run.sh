#!/usr/bin/env bash
# Every benchmark of issue 8 in one command: rows P1-P8, each beside its peer or limit measured
# in the same run, as one table on stdout and in bench/results/DATE.md (DATE-quick.md with
# --quick). The last line printed is a one-line summary of the rows that meet their target.
#
#   bench/run.sh [--quick] [--p8] [--10m] [--no-build]
#
#   --quick     smaller runs (about 5 minutes after the build on an idle machine, 9 with a load
#               average of 12): 3,000/500 ingest envelopes, 50,000 sequenced, 10 s of latency,
#               anchor RSS at 150,000 leaves, merkletreejs on 100,000 leaves, the trace document
#               over 50,000 envelopes with 4 s wrk runs. The full run (about 15 minutes idle)
#               uses each script's defaults.
#   --p8        also measures P8: clones HEAD into a temporary directory and times
#               ./deploy/test.sh there (setup, build, every test; loads the machine for minutes:
#               not while others are building). Without it, P8 is the newest line of
#               bench/results/p8.tsv.
#   --10m       the anchor's RSS also at 10,000,000 leaves (bench/anchor.sh --full, +15 minutes).
#   --no-build  use what is in the build directory.
#   --report    only the table again, from the figures the last run left in build-bench/bench-run.
#
# Builds Release with TRACE_BUILD_BENCH=ON into build-bench/ (TRACE_BENCH_BUILD_DIR), then runs,
# one after the other so that they do not disturb each other: the micro-benchmarks (Google
# Benchmark: canonical JSON, envelope parse + check, Ed25519, RLP + Keccak, the Merkle core),
# bench/ingest.sh (P1, P2, P7 gateway), bench/anchor.sh (P3, P4, P5, P7 anchor) and
# bench/trace.sh (P6). Each of those starts its own stack (deploy/stack.sh up in a temporary
# directory) with fresh data and stops it when done. Whole-system load comes from the
# simulator's `load` (trace-devicesim) and wrk.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
quick=0 p8=0 big=0 build=1 report=0
for arg in "$@"; do
  case $arg in
    --report) report=1 build=0 ;;
    --quick) quick=1 ;;
    --p8) p8=1 ;;
    --10m) big=1 ;;
    --no-build) build=0 ;;
    *) echo "usage: bench/run.sh [--quick] [--p8] [--10m] [--no-build] [--report]" >&2; exit 2 ;;
  esac
done
build_dir=${TRACE_BENCH_BUILD_DIR:-$root/build-bench}
export TRACE_BENCH_BUILD_DIR=$build_dir TRACE_BENCH_NO_BUILD=1
log() { echo "run.sh [$((SECONDS / 60))m$((SECONDS % 60))s]: $*" >&2; }

for tool in cmake ninja wrk jq psql curl node python3 git; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool missing; run deploy/setup.sh" >&2; exit 2; }
done
[[ -x /usr/sbin/nginx ]] || command -v nginx >/dev/null || { echo "run.sh: nginx missing; run deploy/setup.sh" >&2; exit 2; }

# The parts' outputs stay in the build directory (also when a run is cut short).
work=$build_dir/bench-run
kv=$work/figures.kv
if ((!report)); then
  rm -rf "$work"
  mkdir -p "$work"
  : >"$kv"
fi
export TRACE_BENCH_OUT=$kv
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# --- build -------------------------------------------------------------------------------------
if ((build)); then
  log "building Release with TRACE_BUILD_BENCH=ON in $build_dir"
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRACE_BUILD_BENCH=ON >"$work/cmake.log" 2>&1 ||
    { cat "$work/cmake.log" >&2; exit 1; }
  cmake --build "$build_dir" -j"$(nproc)" --target trace-gateway trace-devicesim trace-admin trace-anchor trace-api \
    trace-bench-crypto trace-bench-micro merkle_bench >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
fi
t_built=$SECONDS

if ((!report)); then
# --- micro-benchmarks --------------------------------------------------------------------------
min_time=$( ((quick)) && echo 0.1 || echo 0.5)
log "micro-benchmarks (Google Benchmark, one thread)"
"$build_dir/bin/trace-bench-micro" --benchmark_min_time="$min_time" --benchmark_format=json >"$work/micro.json" 2>/dev/null
"$build_dir/bin/trace-bench-crypto" --benchmark_min_time="$min_time" --benchmark_format=json >"$work/crypto.json" 2>/dev/null

# --- whole-system rows -------------------------------------------------------------------------
if ((quick)); then
  ingest_args=(--no-build --p1-count 3000 --p2-count 500)
  export TRACE_BENCH_SEQ_ENVELOPES=50000 TRACE_BENCH_LATENCY_SECONDS=10 TRACE_BENCH_RSS_LEAVES=150000 \
    TRACE_BENCH_MERKLE_JS_LEAVES=100000 TRACE_BENCH_SECONDS=4
  trace_envelopes=50000
else
  ingest_args=(--no-build)
  trace_envelopes=1000000
fi
anchor_args=()
((big)) && anchor_args=(--full)

log "ingestion: bench/ingest.sh ${ingest_args[*]} (P1, P2, P7 gateway)"
"$here/ingest.sh" "${ingest_args[@]}" >"$work/ingest.out" 2>"$work/ingest.err" || { tail -20 "$work/ingest.err" >&2; exit 1; }
log "log and chain: bench/anchor.sh ${anchor_args[*]} (P3, P4, P5, P7 anchor)"
"$here/anchor.sh" "${anchor_args[@]}" >"$work/anchor.out" 2>"$work/anchor.err" || { tail -20 "$work/anchor.err" "$work/anchor.out" >&2; exit 1; }
log "trace document: bench/trace.sh $trace_envelopes (P6)"
"$here/trace.sh" "$trace_envelopes" >"$work/trace.out" 2>"$work/trace.err" || { tail -20 "$work/trace.err" >&2; exit 1; }

fi  # !report

# --- P8 ----------------------------------------------------------------------------------------
p8_file=$here/results/p8.tsv
if ((p8)); then
  log "P8: clean clone of HEAD, ./deploy/test.sh"
  clone=$work/clone
  git clone -q "$root" "$clone"
  git -C "$clone" checkout -q "$(git -C "$root" rev-parse HEAD)"
  t0=$SECONDS
  p8_status=ok
  (cd "$clone" && ./deploy/test.sh) >"$work/p8.log" 2>&1 || p8_status="failed (exit $?)"
  p8_seconds=$((SECONDS - t0))
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git -C "$root" rev-parse --short HEAD)" "$p8_seconds" \
    "bench/run.sh --p8: clean clone, ./deploy/test.sh, $p8_status" >>"$p8_file"
  [[ $p8_status == ok ]] || tail -30 "$work/p8.log" >&2
fi
if [[ -f $p8_file ]]; then
  IFS=$'\t' read -r p8_when p8_commit p8_seconds p8_how < <(grep -v '^#' "$p8_file" | tail -1)
  printf 'p8_seconds=%s\np8_source=%s\n' "$p8_seconds" "$p8_when, $p8_commit: $p8_how" >>"$kv"
fi

# --- the table ---------------------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
mode=$( ((quick)) && echo "--quick" || echo "full")
table=$(python3 - "$kv" "$work/micro.json" "$work/crypto.json" "$mode" <<'PY'
import json, sys
kv = {}
for line in open(sys.argv[1]):
    if "=" in line:
        k, v = line.rstrip("\n").split("=", 1)
        kv[k] = v
micro = json.load(open(sys.argv[2]))["benchmarks"] + json.load(open(sys.argv[3]))["benchmarks"]
mode = sys.argv[4]
f = lambda k: float(kv[k])
rows = []  # (row, figure, measured, peer, ratio, target, ok)

def row(name, figure, measured, peer, ratio, target, ok):
    rows.append((name, figure, measured, peer, "%.2f" % ratio if ratio is not None else "-", target,
                 None if ok is None else bool(ok)))

try:
    p1, verify, lost = f("p1_rate"), f("verify_rate"), int(f("p1_lost"))
    row("P1", "envelopes accepted/s, 1 event each, broker + database + gateway here (lost %d of %d)" % (lost, f("p1_count")),
        "%.0f/s" % p1, "Ed25519 verify/s, one core: %.0f/s" % verify, p1 / verify, ">= 0.8, 0 lost",
        p1 / verify >= 0.8 and lost == 0)
    p2, copy = f("p2_readings_rate"), f("copy_readings_rate")
    row("P2", "readings stored/s, 100 per envelope", "%.0f/s" % p2, "PostgreSQL COPY of the same rows: %.0f/s" % copy,
        p2 / copy, ">= 0.7", p2 / copy >= 0.7)
except KeyError as e:
    row("P1/P2", "not measured (%s missing)" % e, "-", "-", None, "", False)
try:
    m, js, sha = f("merkle_leaves_per_s"), f("merkletreejs_leaves_per_s"), f("sha256_65_per_s")
    row("P3", "Merkle core, 1M leaves: leaf hash + append + root", "%.0f leaves/s" % m,
        "merkletreejs 0.6, %d leaves: %.0f leaves/s" % (f("merkletreejs_leaves"), js), m / js, ">= 5", m / js >= 5)
    row("P3", "Merkle core as SHA-256 hashes/s (2 per leaf)", "%.0f hashes/s" % (2 * m),
        "SHA-256 of 65 bytes, one core: %.0f/s" % sha, 2 * m / sha, ">= 0.5", 2 * m / sha >= 0.5)
except KeyError as e:
    row("P3", "not measured (%s missing)" % e, "-", "-", None, "", False)
try:
    seq, p1 = f("seq_rate"), f("p1_rate")
    row("P4", "sequencing + integration with PostgreSQL", "%.0f envelopes/s" % seq, "P1: %.0f envelopes/s" % p1,
        seq / p1, ">= 2", seq / p1 >= 2)
except KeyError as e:
    row("P4", "not measured (%s missing)" % e, "-", "-", None, "", False)
try:
    p50, p99 = (float(x) for x in kv["latency_p50_p99"].split(":"))
    row("P5", "accepted -> anchored p99, 1 s blocks (p50 %.2f s)" % p50, "%.2f s" % p99, "limit 3 s", p99 / 3,
        "<= 3 s", p99 <= 3)
    n, gas, interval = (float(x) for x in kv["burst_anchor_stats"].split(":"))
    p1 = f("p1_rate")
    per_env = gas / max(interval, 1e-9) / p1
    row("P5", "gas per envelope at the P1 rate (%.0f gas per anchor, one anchor every %.2f s)" % (gas, interval),
        "%.2f gas" % per_env, "limit 1 gas", per_env / 1, "<= 1", per_env <= 1)
except (KeyError, ValueError) as e:
    row("P5", "not measured (%s)" % e, "-", "-", None, "", False)
try:
    p99, rps, bad = f("trace_p99_1000"), f("trace_rps_1000"), int(f("trace_bad_1000"))
    row("P6", "trace document p99 at 1,000 req/s, %d envelopes, 5 hops (achieved %.0f req/s, %d non-2xx, p50 %s ms)" %
        (f("trace_envelopes"), rps, bad, kv["trace_p50_1000"]), "%.2f ms" % p99,
        "limit 20 ms (nginx, same bytes, same rate: p99 %s ms)" % kv["trace_nginx_p99_1000"], p99 / 20, "<= 20 ms",
        p99 <= 20 and rps >= 950 and bad == 0)
    api, nginx = f("trace_api_max"), f("trace_nginx_max")
    row("P6", "trace document throughput (%s B)" % kv["trace_bytes"], "%.0f req/s" % api,
        "nginx, same bytes: %.0f req/s" % nginx, api / nginx, ">= 0.3", api / nginx >= 0.3)
except KeyError as e:
    row("P6", "not measured (%s missing)" % e, "-", "-", None, "", False)
try:
    hwm = f("gateway_hwm_kb") / 1024
    row("P7", "gateway peak RSS (VmHWM) after P1", "%.1f MB" % hwm, "limit 64 MB", hwm / 64, "<= 64 MB", hwm <= 64)
except KeyError as e:
    row("P7", "gateway: not measured (%s missing)" % e, "-", "-", None, "", False)
fresh = sorted(((int(k.rsplit("_", 1)[1]), v) for k, v in kv.items() if k.startswith("anchor_rss_fresh_")))
if fresh and "anchor_rss_first" in kv:
    first_leaves, first_rss, first_hwm = (int(x) for x in kv["anchor_rss_first"].split(":"))
    peaks = [(int(v.split(":")[0]), int(v.split(":")[2])) for _, v in fresh]
    top = max(p for _, p in peaks) / 1024
    flat = all(p <= 1.25 * peaks[0][1] for _, p in peaks) and peaks[0][1] <= 1.5 * first_hwm
    desc = ", ".join("%.1f MB at %d" % (p / 1024, l) for l, p in peaks)
    row("P7", "anchor peak RSS, fresh process + 10,000 sequenced: %s leaves (%.1f MB at %d)" %
        (desc, first_hwm / 1024, first_leaves), "%.1f MB" % top, "limit 128 MB, flat", top / 128, "<= 128 MB, flat",
        top <= 128 and flat)
else:
    row("P7", "anchor: not measured", "-", "-", None, "", False)
if "p8_seconds" in kv:
    s = f("p8_seconds")
    row("P8", "clean clone -> setup, build, all tests (%s)" % kv["p8_source"].replace("(not recorded), -: ", ""), "%d min %02d s" % (s // 60, s % 60),
        "limit 15 min", s / 900, "<= 15 min", s <= 900)
else:
    row("P8", "not measured (bench/run.sh --p8)", "-", "-", None, "", None)

print("| row | figure | measured | peer or limit, same run | ratio | target | result |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    result = "-" if r[6] is None else ("PASS" if r[6] else "FAIL")
    print("| %s | %s | %s | %s | %s | %s | %s |" % (r[0], r[1], r[2], r[3], r[4], r[5], result))
print()
print("Micro-benchmarks (Google Benchmark, one thread):")
print()
print("| benchmark | time per item | items/s |")
print("|---|---|---|")
for b in micro:
    if b.get("run_type", "iteration") != "iteration" or "items_per_second" not in b:
        continue
    ips = b["items_per_second"]
    print("| %s | %.2f us | %.0f |" % (b["name"], 1e6 / ips, ips))
met = [r for r in rows if r[6]]
judged = [r for r in rows if r[6] is not None]
names = ", ".join("%s (%s)" % (r[0], r[5]) for r in met)
print()
print("SUMMARY %d of %d rows meet their target%s" % (len(met), len(judged), (": " + names) if names else ""))
PY
)
summary=$(grep '^SUMMARY ' <<<"$table" | sed 's/^SUMMARY //')
table=$(grep -v '^SUMMARY ' <<<"$table")

machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM, $(. /etc/os-release && echo "$PRETTY_NAME")"
commit="$(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet HEAD -- . ':!bench/results' || echo ' + local changes')"
suffix=""
((quick)) && suffix=-quick
out=$here/results/$(date -u +%Y-%m-%d)$suffix.md
mkdir -p "$here/results"
{
  echo "# Benchmarks, $started ($mode)"
  echo
  echo "Machine: $machine; load average $load_start at the start, $load_end at the end (other work on the"
  echo "machine raises it; the figures of one run are compared with each other, never with another run's)."
  if ((report)); then
    echo "Table re-rendered with bench/run.sh --report from the figures of the last run (load averages: now)."
  else
    echo "Commit $commit; command: bench/run.sh $*; $((SECONDS - t_built)) s after the build."
  fi
  echo
  echo "$table"
  echo
  echo "Summary: $summary"
  echo
  echo "## Output of each part"
  for part in ingest anchor trace; do
    echo
    echo "### bench/$part.sh"
    echo
    echo '```'
    cat "$work/$part.out"
    echo '```'
  done
} >"$out"
echo
echo "$table"
echo
log "written to ${out#"$root"/}"
echo "$summary"
