#!/usr/bin/env bash
# Benchmarks of issue 4, each figure printed beside its target:
#   Merkle core on 1,000,000 leaves vs merkletreejs 0.6 (same leaves, RFC 9162 hashing) and
#   vs this machine's SHA-256 rate on 65-byte inputs; sequencing + integration rate with
#   PostgreSQL; accepted -> anchored latency p50/p99 with anvil's 1 s blocks; gas per anchor
#   and per envelope; trace-anchor RSS at 1M leaves (and 10M with --full).
#
#   bench/anchor.sh [--full | --latency]
# --latency: only sequencing, latency and gas (no Merkle core, no RSS). The stack's
# configuration is used (DIR/env: TRACE_CHAIN_CONFIRMATIONS=1); a TRACE_CHAIN_CONFIRMATIONS or
# TRACE_ANCHOR_MAX_IN_FLIGHT set by the caller wins, for comparisons.
# Builds merkle_bench (TRACE_BUILD_BENCH=ON in build/), installs bench/node_modules
# (merkletreejs, from bench/package-lock.json), starts its own stack in a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
full=0 latency_only=0
case ${1:-} in
  --full) full=1 ;;
  --latency) latency_only=1 ;;
  "") ;;
  *) echo "usage: bench/anchor.sh [--full | --latency]" >&2; exit 2 ;;
esac
# Knobs for bench/run.sh --quick (defaults: the figures of bench/README.md):
#   TRACE_BENCH_BUILD_DIR (build/), TRACE_BENCH_SEQ_ENVELOPES (200000), TRACE_BENCH_LATENCY_SECONDS
#   (30), TRACE_BENCH_RSS_LEAVES (1000000), TRACE_BENCH_MERKLE_JS_LEAVES (1000000; merkletreejs
#   on fewer leaves than the C++ core's 1M, per-leaf rates compared), TRACE_BENCH_OUT (a file
#   to which the figures are appended as key=value lines).
build_dir=${TRACE_BENCH_BUILD_DIR:-$root/build}
seq_n=${TRACE_BENCH_SEQ_ENVELOPES:-200000}
latency_s=${TRACE_BENCH_LATENCY_SECONDS:-30}
rss_leaves=${TRACE_BENCH_RSS_LEAVES:-1000000}
js_leaves=${TRACE_BENCH_MERKLE_JS_LEAVES:-1000000}
# deploy/stack.sh migrates (and deploys the contract) with the trace-admin found here.
export TRACE_BIN_DIR=${TRACE_BIN_DIR:-$build_dir/bin}
out_kv() { # KEY VALUE [KEY VALUE ...]
  [[ -z ${TRACE_BENCH_OUT:-} ]] && return 0
  while (($# >= 2)); do printf '%s=%s\n' "$1" "$2" >>"$TRACE_BENCH_OUT"; shift 2; done
}
caller_confirmations=${TRACE_CHAIN_CONFIRMATIONS:-}
caller_in_flight=${TRACE_ANCHOR_MAX_IN_FLIGHT:-}

if [[ -z ${TRACE_BENCH_NO_BUILD:-} ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRACE_BUILD_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j2 --target merkle_bench trace-anchor trace-admin >/dev/null
fi
[[ -d $here/node_modules/merkletreejs ]] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)

if ((!latency_only)); then
echo "== Merkle core, 1,000,000 leaves"
cpp=$("$build_dir/bench/merkle_bench" --benchmark_format=json 2>/dev/null)
js=$(node "$here/merkle.js" "$js_leaves")
sha_hps=$(jq '.benchmarks[] | select(.name=="BM_Sha256_65Bytes") | .items_per_second' <<<"$cpp")
build_lps=$(jq '.benchmarks[] | select(.name|startswith("BM_MerkleBuild1M")) | .items_per_second' <<<"$cpp")
proof_us=$(jq '.benchmarks[] | select(.name=="BM_InclusionProof1M") | .real_time' <<<"$cpp")
cpp_root=$(jq -r '.benchmarks[] | select(.name=="BM_InclusionProof1M") | .label' <<<"$cpp" | sed 's/root //')
js_lps=$(jq .leaves_per_s <<<"$js")
js_root=$(jq -r .root <<<"$js")
js_proof_us=$(jq .proof_us <<<"$js")
awk -v c="$build_lps" -v j="$js_lps" -v s="$sha_hps" -v p="$proof_us" -v jp="$js_proof_us" 'BEGIN {
  printf "SHA-256 of 65 bytes: %.0f hashes/s (%.0f MB/s)\n", s, s * 65 / 1e6
  printf "trace merkle build: %.0f leaves/s (%.0f hashes/s = %.2f x the SHA-256 rate; target >= 0.5)\n", c, 2 * c, 2 * c / s
  printf "merkletreejs 0.6:   %.0f leaves/s; trace is %.1f x (target >= 5)\n", j, c / j
  printf "inclusion proof + verify: trace %.1f us, merkletreejs %.1f us\n", p, jp }'
if ((js_leaves == 1000000)); then
  [[ $cpp_root == "$js_root" ]] && echo "roots agree: $cpp_root" || echo "ROOTS DIFFER: trace $cpp_root merkletreejs $js_root"
else
  echo "merkletreejs on $js_leaves leaves (roots not compared: other sizes)"
fi
out_kv merkle_leaves_per_s "$build_lps" merkletreejs_leaves_per_s "$js_lps" merkletreejs_leaves "$js_leaves" \
  sha256_65_per_s "$sha_hps" proof_us "$proof_us" merkletreejs_proof_us "$js_proof_us"
fi

echo "== trace-anchor with PostgreSQL and anvil"
dir=$(mktemp -d /tmp/trace-bench-XXXXXX)
anchor_pid=""
cleanup() {
  [[ -n $anchor_pid ]] && kill "$anchor_pid" 2>/dev/null && wait "$anchor_pid" 2>/dev/null
  "$root/deploy/stack.sh" down "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$root/deploy/stack.sh" up "$dir" --only postgres,anvil 2>/dev/null
set -a
# shellcheck disable=SC1091
source "$dir/env"
set +a
[[ -n $caller_confirmations ]] && export TRACE_CHAIN_CONFIRMATIONS=$caller_confirmations
[[ -n $caller_in_flight ]] && export TRACE_ANCHOR_MAX_IN_FLIGHT=$caller_in_flight
"$build_dir/bin/trace-admin" keys >/dev/null
q() { psql "$TRACE_DB_URL" -XqtAc "$1"; }
q "INSERT INTO organizations (id, name) VALUES ('bench', 'Bench');
   INSERT INTO devices (org, device, public_key, mqtt_username)
   VALUES ('bench', 'dev-1', decode(repeat('ab', 32), 'hex'), 'bench/dev-1')"
# Envelopes by SQL (unsigned: the anchor never checks signatures), seq FROM..TO.
insert() {
  q "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count)
     SELECT sha256(c), 'bench', 'dev-1', i, c, now(), 'mqtt', 1 FROM
     (SELECT i, convert_to('{\"device\":\"dev-1\",\"n\":' || i || ',\"pad\":\"' || repeat('x', 400) || '\"}', 'UTF8') AS c
      FROM generate_series($1::bigint, $2::bigint) i) s"
}
leaves() { q "SELECT count(*) FROM log_leaves"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$anchor_pid/status"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$anchor_pid/status"; }
# trace-anchor as the stack runs it: its defaults plus DIR/env (TRACE_CHAIN_CONFIRMATIONS=1 on anvil).
start_anchor() {
  "$build_dir/bin/trace-anchor" --batch-size 5000 >>"$dir/logs/anchor-bench.log" 2>&1 &
  anchor_pid=$!
}
start_anchor
echo "confirmations: ${TRACE_CHAIN_CONFIRMATIONS:-2 (default)}; at most ${TRACE_ANCHOR_MAX_IN_FLIGHT:-3 (default)} anchors in flight; anvil block time 1 s"

# Sequencing + integration: 200,000 envelopes stored at once, time until all are leaves.
n=$seq_n
insert 1 $n
t0=$(date +%s.%N)
while (($(leaves) < n)); do sleep 0.2; done
t1=$(date +%s.%N)
awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "sequencing + integration: %d envelopes in %.1f s = %.0f envelopes/s (target >= 2 x the ingest rate; see the ingest section)\n", n, b - a, n / (b - a) }'
out_kv seq_rate "$(awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')"
# Anchors during the burst: gas per anchor and how often they went out (for gas per envelope
# at a given ingest rate: gas per anchor x anchors per second / rate).
sleep 3
out_kv burst_anchor_stats "$(q "SELECT count(*) || ':' || coalesce(round(avg(gas_used)), 0) || ':' ||
  coalesce(round(extract(epoch FROM max(confirmed_at) - min(confirmed_at))::numeric / greatest(count(*) - 1, 1), 3), 0)
  FROM anchors WHERE state = 'confirmed'")"

# Latency: 20 envelopes every 100 ms for 30 s, then accepted (received_at) -> anchored
# (confirmed_at of the first confirmed anchor covering the leaf).
sleep 5
mark=$(q "SELECT max(seq) FROM envelopes")
s=$((mark + 1))
end=$((SECONDS + latency_s))
while ((SECONDS < end)); do
  insert $s $((s + 19))
  s=$((s + 20))
  sleep 0.1
done
sleep 8
out_kv latency_p50_p99 "$(q "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 3) || ':' ||
          round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 3)
   FROM (SELECT extract(epoch FROM (SELECT min(a.confirmed_at) FROM anchors a WHERE a.state = 'confirmed'
                                    AND a.tree_size > l.leaf_index) - e.received_at) AS lat
         FROM envelopes e JOIN log_leaves l ON l.envelope_id = e.id WHERE e.seq > $mark) x")"
q "SELECT 'accepted -> anchored over ' || count(*) || ' envelopes: p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 2) ||
          ' s, p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 2) || ' s (target p99 <= 3 s)'
   FROM (SELECT extract(epoch FROM (SELECT min(a.confirmed_at) FROM anchors a WHERE a.state = 'confirmed'
                                    AND a.tree_size > l.leaf_index) - e.received_at) AS lat
         FROM envelopes e JOIN log_leaves l ON l.envelope_id = e.id WHERE e.seq > $mark) x"
q "SELECT 'anchors sent while an earlier one was not yet confirmed (pipelined): ' || count(*) FILTER (WHERE EXISTS
     (SELECT 1 FROM anchors b WHERE b.id < a.id AND b.confirmed_at > a.submitted_at)) || ' of ' || count(*)
   FROM anchors a WHERE state = 'confirmed'"
q "SELECT 'gas: ' || round(avg(gas_used)) || ' per anchor over ' || count(*) || ' anchors; ' ||
          round(sum(gas_used)::numeric / max(tree_size), 3) || ' per envelope over ' || max(tree_size) || ' envelopes'
   FROM anchors WHERE state = 'confirmed'"

((latency_only)) && exit 0

# RSS as the log grows. Up to 1M leaves trace-anchor sequences everything itself. With --full
# the log then grows to 10M by SQL: sequencing 9M more here takes over an hour on 2 shared
# cores, so envelopes (short ones), log_leaves and every level of log_nodes (RFC 9162 hashes,
# computed by PostgreSQL) are written directly, as the sequencer would write them.
# At each size a fresh trace-anchor rebuilds its state from log_nodes and sequences 10,000 more
# on top; its peak says what a log of this size costs, apart from the history before.
seed_log() {
  local target=$1 k
  q "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count)
     SELECT sha256(c), 'bench', 'dev-1', i, c, now(), 'mqtt', 1 FROM
     (SELECT i, convert_to('{\"device\":\"dev-1\",\"n\":' || i || '}', 'UTF8') AS c
      FROM generate_series((SELECT max(seq) + 1 FROM envelopes), $target::bigint) i) s"
  q "INSERT INTO log_leaves (leaf_index, envelope_id)
     SELECT (SELECT coalesce(max(leaf_index) + 1, 0) FROM log_leaves) + row_number() OVER (ORDER BY stored_no) - 1, id
     FROM envelopes e WHERE NOT EXISTS (SELECT 1 FROM log_leaves l WHERE l.envelope_id = e.id)"
  q "INSERT INTO log_nodes (level, idx, hash)
     SELECT 0, l.leaf_index, sha256('\x00'::bytea || e.canonical) FROM log_leaves l JOIN envelopes e ON e.id = l.envelope_id
     WHERE l.leaf_index >= (SELECT coalesce(max(idx) + 1, 0) FROM log_nodes WHERE level = 0)"
  for ((k = 1; k < 64; k++)); do
    (($(q "SELECT coalesce(max(idx) + 1, 0) FROM log_nodes WHERE level = $((k - 1))") >= 2)) || break
    q "INSERT INTO log_nodes (level, idx, hash)
       SELECT $k, a.idx / 2, sha256('\x01'::bytea || a.hash || b.hash)
       FROM log_nodes a JOIN log_nodes b ON b.level = $((k - 1)) AND b.idx = a.idx + 1
       WHERE a.level = $((k - 1)) AND a.idx % 2 = 0
         AND a.idx >= 2 * (SELECT coalesce(max(idx) + 1, 0) FROM log_nodes WHERE level = $k)"
  done
}
targets=("$rss_leaves")
((full)) && targets+=(10000000)
echo "trace-anchor RSS at $(leaves) leaves: $(rss_kb) kB"
out_kv anchor_rss_first "$(leaves):$(rss_kb):$(hwm_kb)"
for target in "${targets[@]}"; do
  have=$(q "SELECT max(seq) FROM envelopes")
  if ((target <= 1000000)); then
    while ((have < target)); do
      step=$((target - have < 500000 ? target - have : 500000))
      insert $((have + 1)) $((have + step))
      have=$((have + step))
    done
    while (($(leaves) < target)); do sleep 1; done
    echo "trace-anchor RSS at $(leaves) leaves: $(rss_kb) kB, peak $(hwm_kb) kB (target <= 131072 kB, flat)"
    out_kv anchor_rss_grown "$(leaves):$(rss_kb):$(hwm_kb)"
    kill "$anchor_pid" && wait "$anchor_pid" || true
  else
    while (($(leaves) < have)); do sleep 1; done
    kill "$anchor_pid" && wait "$anchor_pid" || true
    t0=$SECONDS
    seed_log "$target"
    have=$target
    echo "log grown to $(leaves) leaves by SQL in $((SECONDS - t0)) s"
  fi
  start_anchor
  insert $((have + 1)) $((have + 10000))
  have=$((have + 10000))
  t0=$SECONDS
  while (($(leaves) < have)); do
    ((SECONDS - t0 < 300)) || { echo "not sequenced within 300 s; see $dir/logs/anchor-bench.log"; tail -5 "$dir/logs/anchor-bench.log"; exit 1; }
    sleep 0.5
  done
  sleep 2  # a checkpoint of the new size (the root from log_nodes checked against the sequencer's)
  echo "fresh trace-anchor, rebuilt from log_nodes + 10,000 sequenced, at $(leaves) leaves: RSS $(rss_kb) kB, peak $(hwm_kb) kB (target <= 131072 kB, flat)"
  out_kv "anchor_rss_fresh_$target" "$(leaves):$(rss_kb):$(hwm_kb)"
  q "SELECT 'newest checkpoint: tree size ' || max(tree_size) FROM checkpoints"
done
