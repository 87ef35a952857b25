#!/usr/bin/env bash
# Benchmarks of issue 4, each figure printed beside its target:
#   Merkle core on 1,000,000 leaves vs merkletreejs 0.6 (same leaves, RFC 9162 hashing) and
#   vs this machine's SHA-256 rate on 65-byte inputs; sequencing + integration rate with
#   PostgreSQL; accepted -> anchored latency p50/p99 with anvil's 1 s blocks; gas per anchor
#   and per envelope; trace-anchor RSS at 1M leaves (and 10M with --full).
#
#   bench/anchor.sh [--full]
# Builds merkle_bench (TRACE_BUILD_BENCH=ON in build/), installs bench/node_modules
# (merkletreejs, from bench/package-lock.json), starts its own stack in a temporary directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
full=0
[[ ${1:-} == --full ]] && full=1

cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRACE_BUILD_BENCH=ON >/dev/null
cmake --build "$root/build" -j2 --target merkle_bench trace-anchor trace-admin >/dev/null
[[ -d $here/node_modules/merkletreejs ]] || (cd "$here" && npm ci --no-audit --no-fund >/dev/null)

echo "== Merkle core, 1,000,000 leaves"
cpp=$("$root/build/bench/merkle_bench" --benchmark_format=json 2>/dev/null)
js=$(node "$here/merkle.js" 1000000)
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
[[ $cpp_root == "$js_root" ]] && echo "roots agree: $cpp_root" || echo "ROOTS DIFFER: trace $cpp_root merkletreejs $js_root"

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
"$root/build/bin/trace-admin" keys >/dev/null
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
  "$root/build/bin/trace-anchor" --batch-size 5000 >>"$dir/logs/anchor-bench.log" 2>&1 &
  anchor_pid=$!
}
start_anchor
echo "confirmations: ${TRACE_CHAIN_CONFIRMATIONS:-2 (default)}; anvil block time 1 s"

# Sequencing + integration: 200,000 envelopes stored at once, time until all are leaves.
n=200000
insert 1 $n
t0=$(date +%s.%N)
while (($(leaves) < n)); do sleep 0.2; done
t1=$(date +%s.%N)
awk -v n=$n -v a="$t0" -v b="$t1" 'BEGIN { printf "sequencing + integration: %d envelopes in %.1f s = %.0f envelopes/s (target >= 2 x the ingest rate; see the ingest section)\n", n, b - a, n / (b - a) }'

# Latency: 20 envelopes every 100 ms for 30 s, then accepted (received_at) -> anchored
# (confirmed_at of the first confirmed anchor covering the leaf).
sleep 5
mark=$(q "SELECT max(seq) FROM envelopes")
s=$((mark + 1))
end=$((SECONDS + 30))
while ((SECONDS < end)); do
  insert $s $((s + 19))
  s=$((s + 20))
  sleep 0.1
done
sleep 8
q "SELECT 'accepted -> anchored over ' || count(*) || ' envelopes: p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY lat)::numeric, 2) ||
          ' s, p99 ' || round(percentile_cont(0.99) WITHIN GROUP (ORDER BY lat)::numeric, 2) || ' s (target p99 <= 3 s)'
   FROM (SELECT extract(epoch FROM (SELECT min(a.confirmed_at) FROM anchors a WHERE a.state = 'confirmed'
                                    AND a.tree_size > l.leaf_index) - e.received_at) AS lat
         FROM envelopes e JOIN log_leaves l ON l.envelope_id = e.id WHERE e.seq > $mark) x"
q "SELECT 'gas: ' || round(avg(gas_used)) || ' per anchor over ' || count(*) || ' anchors; ' ||
          round(sum(gas_used)::numeric / max(tree_size), 3) || ' per envelope over ' || max(tree_size) || ' envelopes'
   FROM anchors WHERE state = 'confirmed'"

# RSS as the log grows: 1M leaves (10M with --full).
targets=(1000000)
((full)) && targets+=(10000000)
echo "trace-anchor RSS at $(leaves) leaves: $(rss_kb) kB"
for target in "${targets[@]}"; do
  have=$(q "SELECT max(seq) FROM envelopes")
  while ((have < target)); do
    step=$((target - have < 500000 ? target - have : 500000))
    insert $((have + 1)) $((have + step))
    have=$((have + step))
  done
  while (($(leaves) < target)); do sleep 1; done
  echo "trace-anchor RSS at $(leaves) leaves: $(rss_kb) kB, peak $(hwm_kb) kB (target <= 131072 kB, flat)"
  # A fresh process on the existing log: rebuilds its state from log_nodes, then sequences
  # 10,000 more; its peak says what a log of this size costs, apart from the history above.
  kill "$anchor_pid" && wait "$anchor_pid" || true
  start_anchor
  insert $((have + 1)) $((have + 10000))
  have=$((have + 10000))
  while (($(leaves) < have)); do sleep 0.5; done
  echo "restarted trace-anchor after rebuild + 10,000 more at $(leaves) leaves: RSS $(rss_kb) kB, peak $(hwm_kb) kB"
done
