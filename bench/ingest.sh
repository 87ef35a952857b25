#!/usr/bin/env bash
# Ingestion benchmark (issue 3 item 5, issue 8 rows P1, P2, P7). Not a test: it prints figures
# beside peers measured in the same run, on whatever machine runs it.
#
#   bench/ingest.sh [--no-build] [--p1-count N] [--p2-count N] [--devices N]
#   (TRACE_BENCH_GATEWAY=PATH runs another trace-gateway binary, e.g. an older build, for comparison;
#    TRACE_BENCH_KEEP=1 keeps the temporary stack directory.)
#
# Starts its own PostgreSQL and Mosquitto (deploy/stack.sh up TMPDIR --only postgres,mosquitto) and
# its own trace-gateway (so its RSS can be read), then measures:
#   P1  envelopes accepted per second end to end (trace-devicesim load, 1 event per envelope, as
#       fast as the system takes them) / Ed25519 verifications per second on one core
#       (build/bin/trace-bench-crypto, Google Benchmark, single thread). Target >= 0.8, zero lost.
#   P2  readings stored per second (100 readings per envelope) / readings per second of a
#       PostgreSQL COPY of the same rows (the envelopes, events and event_keys rows the gateway
#       stored) into scratch copies of those tables (LIKE ... INCLUDING ALL) in the same database.
#       Target >= 0.7.
#   P7  the gateway's peak RSS (VmHWM) after the P1 run. Target <= 64 MB.
# Prints one table and writes it to bench/results/DATE-ingest.md. Everything runs on this machine:
# the load generator competes with the gateway, the broker and the database for the same cores.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=1 p1_count=20000 p2_count=3000 devices=20
while (($#)); do
  case $1 in
    --no-build) build=0 ;;
    --p1-count) p1_count=$2; shift ;;
    --p2-count) p2_count=$2; shift ;;
    --devices) devices=$2; shift ;;
    *) echo "usage: bench/ingest.sh [--no-build] [--p1-count N] [--p2-count N] [--devices N]" >&2; exit 2 ;;
  esac
  shift
done
# TRACE_BENCH_BUILD_DIR: the build directory (default build/; bench/run.sh uses build-bench/).
build_dir=${TRACE_BENCH_BUILD_DIR:-$root/build}
bin=$build_dir/bin
# deploy/stack.sh migrates (and deploys the contract) with the trace-admin found here.
export TRACE_BIN_DIR=${TRACE_BIN_DIR:-$build_dir/bin}
log() { echo "bench: $*" >&2; }
# TRACE_BENCH_OUT: a file to which the figures are appended as key=value lines (bench/run.sh).
out_kv() { # KEY VALUE [KEY VALUE ...]
  [[ -z ${TRACE_BENCH_OUT:-} ]] && return 0
  while (($# >= 2)); do printf '%s=%s\n' "$1" "$2" >>"$TRACE_BENCH_OUT"; shift 2; done
}

if ((build)); then
  log "building (Release, TRACE_BUILD_BENCH=ON)"
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRACE_BUILD_BENCH=ON >/dev/null
  cmake --build "$build_dir" --target trace-gateway trace-devicesim trace-admin trace-bench-crypto >/dev/null
fi

dir=$(mktemp -d /tmp/trace-bench.XXXXXX)
gateway_pid=
cleanup() {
  if [[ -n $gateway_pid ]] && kill -0 "$gateway_pid" 2>/dev/null; then
    kill "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  "$root/deploy/stack.sh" down "$dir" >/dev/null 2>&1 || true
  [[ ${sim_root:-$dir} == "$dir" ]] || rm -rf "$sim_root"
  [[ -n ${TRACE_BENCH_KEEP:-} ]] || rm -rf "$dir"
}
trap cleanup EXIT
log "stack in $dir"
"$root/deploy/stack.sh" up "$dir" --only postgres,mosquitto >"$dir/stack.log" 2>&1 ||
  { cat "$dir/stack.log" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
source "$dir/env"
set +a
"$bin/trace-admin" keys >"$dir/keys.log" 2>&1 || { cat "$dir/keys.log" >&2; exit 1; }
export TRACE_ADMIN=$bin/trace-admin

"${TRACE_BENCH_GATEWAY:-$bin/trace-gateway}" --client-id=bench-gateway --max-clock-skew-ms=600000 2>"$dir/gateway.log" &
gateway_pid=$!
for _ in $(seq 300); do
  grep -q '"subscribed"' "$dir/gateway.log" && break
  kill -0 "$gateway_pid" || { cat "$dir/gateway.log" >&2; exit 1; }
  sleep 0.1
done
grep -q '"subscribed"' "$dir/gateway.log" || { log "gateway did not subscribe"; exit 1; }

psql_db() { psql "$TRACE_DB_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
json_field() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

# --- Ed25519 verify rate, one core ---------------------------------------------------------------
verify_rate() {
  "$bin/trace-bench-crypto" --benchmark_filter=BM_Ed25519Verify --benchmark_min_time=2 \
    --benchmark_format=json 2>/dev/null |
    python3 -c 'import json,sys; print(round(json.load(sys.stdin)["benchmarks"][0]["items_per_second"]))'
}
log "Ed25519 verify, one core"
verify1=$(verify_rate)

# --- P1: 1 event per envelope, as fast as it goes -----------------------------------------------
# --rate far above what the machine can take: the simulator seals and publishes as fast as it can
# and the figure is what the system accepted per second, re-sends and drain included.
# The simulator's durable outbox is a file per envelope; on this machine's ext4 (mounted with
# `discard`) creating and deleting them capped the simulator at ~250 envelopes/s (perf: ext4_create,
# recently_deleted), so its state lives on tmpfs when there is one. --preseal signs every envelope
# before the clock starts; --resend-ms above the run's receipt latency avoids needless re-sends.
sim_root=$dir
if [[ -d /dev/shm && -w /dev/shm ]]; then
  sim_root=$(mktemp -d /dev/shm/trace-bench-sim.XXXXXX)
fi
sim() { "$bin/trace-devicesim" --timeout=300 --resend-ms=30000 --log-level=warn "$@"; }

# CPU seconds (user + system) used so far by the processes PIDS and their descendants (PostgreSQL's
# backends). Descendants that already exited are not counted.
cpu_seconds() {
  python3 - "$@" <<'PY'
import os, sys
roots = {int(p) for p in sys.argv[1:]}
procs = {}
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        stat = open("/proc/%s/stat" % d).read()
    except OSError:
        continue
    fields = stat[stat.rindex(")") + 2:].split()
    procs[int(d)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
def inside(pid):
    while pid > 1:
        if pid in roots:
            return True
        pid = procs.get(pid, (0, 0))[0]
    return False
total = sum(ticks for pid, (_, ticks) in procs.items() if inside(pid))
print(total / os.sysconf("SC_CLK_TCK"))
PY
}
leader() { read -r pid _ <"$dir/pids/$1" && echo "$pid"; }
pg_pid=$(leader postgres)
mqtt_pid=$(leader mosquitto)
log "P1: $p1_count envelopes, 1 event each, $devices devices"
cpu_before=($(cpu_seconds "$gateway_pid") $(cpu_seconds "$mqtt_pid") $(cpu_seconds "$pg_pid"))
p1_json=$(/usr/bin/time -f '%U %S' -o "$dir/sim-p1.time" \
  "$bin/trace-devicesim" --timeout=300 --resend-ms=30000 --log-level=warn load --state-dir="$sim_root/sim-p1" \
  --org=bench-p1 --register --devices="$devices" --rate=1000000 --readings=1 --count="$p1_count" --preseal --json 2>"$dir/sim-p1.log") || true
cpu_after=($(cpu_seconds "$gateway_pid") $(cpu_seconds "$mqtt_pid") $(cpu_seconds "$pg_pid"))
p1_accepted=$(json_field accepted <<<"$p1_json")
p1_seconds=$(json_field seconds <<<"$p1_json")
p1_pending=$(json_field pending <<<"$p1_json")
p1_stored=$(psql_db -At -c "SELECT count(*) FROM envelopes WHERE org = 'bench-p1'")
p1_rate=$(python3 -c "print(round($p1_accepted / $p1_seconds))")
hwm_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$gateway_pid/status")
shed=$(curl -fsS "http://127.0.0.1:$(grep -o '"http_port":[0-9]*' "$dir/gateway.log" | head -1 | cut -d: -f2)/metrics" |
  awk '$1 == "trace_gateway_shed_total" {print $2}')
verify2=$(verify_rate)
verify=$(python3 -c "print(round(($verify1 + $verify2) / 2))")

# --- P2: 100 readings per envelope vs COPY of the same rows --------------------------------------
log "P2: $p2_count envelopes, 100 readings each"
p2_json=$(sim load --state-dir="$sim_root/sim-p2" --org=bench-p2 --register --devices="$devices" --rate=1000000 \
  --readings=100 --count="$p2_count" --preseal --json 2>"$dir/sim-p2.log") || true
p2_accepted=$(json_field accepted <<<"$p2_json")
p2_seconds=$(json_field seconds <<<"$p2_json")
p2_readings_rate=$(python3 -c "print(round($p2_accepted * 100 / $p2_seconds))")

log "P2 peer: COPY of the same rows"
psql_db <<SQL
CREATE TABLE bench_envelopes (LIKE envelopes INCLUDING ALL);
CREATE TABLE bench_events (LIKE events INCLUDING ALL);
CREATE TABLE bench_event_keys (LIKE event_keys INCLUDING ALL);
\copy (SELECT * FROM envelopes WHERE org = 'bench-p2') TO '$dir/envelopes.copy'
\copy (SELECT k.* FROM event_keys k JOIN envelopes e ON e.id = k.envelope_id WHERE e.org = 'bench-p2') TO '$dir/event_keys.copy'
\copy (SELECT v.* FROM events v JOIN envelopes e ON e.id = v.envelope_id WHERE e.org = 'bench-p2') TO '$dir/events.copy'
SQL
copy_start=$(date +%s.%N)
psql_db <<SQL
BEGIN;
\copy bench_envelopes FROM '$dir/envelopes.copy'
\copy bench_events FROM '$dir/events.copy'
\copy bench_event_keys FROM '$dir/event_keys.copy'
COMMIT;
SQL
copy_end=$(date +%s.%N)
copied=$(psql_db -At -c "SELECT count(*) FROM bench_envelopes")
copy_readings_rate=$(python3 -c "print(round($copied * 100 / ($copy_end - $copy_start)))")
psql_db -c "DROP TABLE bench_envelopes, bench_events, bench_event_keys"

# CPU per accepted envelope in the P1 run, by process: where the machine's cores go. The simulator's
# figure includes sealing (signing) every envelope before the clock started.
cpu_table=$(python3 - "$p1_accepted" "$verify" "${cpu_before[@]}" "${cpu_after[@]}" "$(cat "$dir/sim-p1.time")" <<'PY'
import sys
n, verify = float(sys.argv[1]), float(sys.argv[2])
before, after = [float(x) for x in sys.argv[3:6]], [float(x) for x in sys.argv[6:9]]
sim = sum(float(x) for x in sys.argv[9].split())
names = ["trace-gateway", "mosquitto", "postgres (all backends)", "trace-devicesim (incl. presealing)"]
used = [a - b for a, b in zip(after, before)] + [sim]
print("| process (P1 run) | CPU per accepted envelope | vs one Ed25519 verify (%.0f us) |" % (1e6 / verify))
print("|---|---|---|")
for name, u in zip(names, used):
    print("| %s | %.0f us | %.2f |" % (name, u / n * 1e6, u / n * verify))
print("| total | %.0f us | %.2f |" % (sum(used) / n * 1e6, sum(used) / n * verify))
PY
)

# --- Table -----------------------------------------------------------------------------------------
lost=$((p1_count - p1_stored))
table=$(python3 - "$p1_rate" "$verify" "$lost" "$p2_readings_rate" "$copy_readings_rate" "$hwm_kb" <<'PY'
import sys
p1, verify, lost, p2, copy, hwm = (float(x) for x in sys.argv[1:])
rows = [
    ("P1", "envelopes accepted/s, 1 event each (lost: %d)" % lost, "%.0f/s" % p1,
     "Ed25519 verify/s, one core", "%.0f/s" % verify, p1 / verify, ">= 0.8", p1 / verify >= 0.8 and lost == 0),
    ("P2", "readings stored/s, 100 per envelope", "%.0f/s" % p2,
     "COPY of the same rows", "%.0f/s" % copy, p2 / copy, ">= 0.7", p2 / copy >= 0.7),
    ("P7", "gateway peak RSS (VmHWM) after P1", "%.1f MB" % (hwm / 1024),
     "limit", "64 MB", hwm / 1024 / 64, "<= 1.0", hwm / 1024 <= 64),
]
print("| row | figure | value | peer / limit | peer value | ratio | target | result |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| %s | %s | %s | %s | %s | %.2f | %s | %s |" % (r[0], r[1], r[2], r[3], r[4], r[5], r[6],
                                                        "PASS" if r[7] else "FAIL"))
PY
)
details="P1: $p1_json
P1: gateway shed_total $shed; envelopes stored $p1_stored of $p1_count; verify/s before $verify1, after $verify2
P2: $p2_json
P2 peer: $copied envelopes' rows COPY'd in $(python3 -c "print(round($copy_end - $copy_start, 3))") s"
out_kv p1_rate "$p1_rate" p1_lost "$lost" verify_rate "$verify" p1_count "$p1_count" \
  p2_readings_rate "$p2_readings_rate" copy_readings_rate "$copy_readings_rate" gateway_hwm_kb "$hwm_kb"
echo
echo "$table"
echo
echo "$cpu_table"
echo
echo "$details"
# Under bench/run.sh the one results file is run.sh's (it keeps this output too).
[[ -z ${TRACE_BENCH_OUT:-} ]] || exit 0
out=$root/bench/results/$(date -u +%Y-%m-%d)-ingest.md
{
  echo "# Ingestion benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo
  echo "Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared;"
  echo "commit $(git -C "$root" rev-parse --short HEAD)$(git -C "$root" diff --quiet || echo ' (+ local changes)');"
  echo "command: bench/ingest.sh --p1-count $p1_count --p2-count $p2_count --devices $devices"
  echo
  echo "$table"
  echo
  echo "$cpu_table"
  echo
  echo '```'
  echo "$details"
  echo '```'
} >"$out"
log "written to $out"
