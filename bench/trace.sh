#!/usr/bin/env bash
# Benchmark of issue 5: the trace document (GET /01/{gtin}/10/{lot}, Accept: application/json)
# from trace-api with 1,000,000 envelopes stored and a 5-hop upstream chain, beside nginx serving
# the same document bytes as a static file, in the same run, with Debian's wrk (4.x).
#
#   bench/trace.sh [ENVELOPES]      (default 1000000)
#
# Starts its own stack (PostgreSQL + anvil) in a temporary directory, fills it by SQL
# (generate_series: envelopes, events, event_keys), runs build/bin/trace-anchor until a confirmed
# anchor covers every envelope, then build/bin/trace-api (rate limit off) and nginx on other
# loopback ports. wrk and nginx come from deploy/setup.sh. TRACE_BENCH_KEEP=1 leaves the stack up
# (PostgreSQL and anvil; the services are stopped) for a look at the data afterwards.
#
# Method: wrk 4 has no fixed-rate mode (-R is wrk2), so bench/wrk_paced.lua paces requests with
# wrk's delay() hook at RATE requests/s (-t2 -c16, 10 s); p50/p99 are wrk's --latency percentiles
# (service time, no coordinated-omission correction). Throughput is wrk -t2 -c16 -d10s unpaced.
# Targets: p99 <= 20 ms at 1,000 requests/s; throughput >= 0.3 x nginx's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
total=${1:-1000000}
threads=2 conns=16 secs=${TRACE_BENCH_SECONDS:-10}
# TRACE_BENCH_BUILD_DIR: the build directory (build/); TRACE_BENCH_NO_BUILD=1: use it as it is;
# TRACE_BENCH_API_ARGS: more trace-api flags (e.g. --document-cache-mb=0 for the uncached
# figures); TRACE_BENCH_OUT: a file to which the figures are appended as key=value lines.
build_dir=${TRACE_BENCH_BUILD_DIR:-$root/build}
read -r -a api_args <<<"${TRACE_BENCH_API_ARGS:-}"
# deploy/stack.sh migrates (and deploys the contract) with the trace-admin found here.
export TRACE_BIN_DIR=${TRACE_BIN_DIR:-$build_dir/bin}
out_kv() { # KEY VALUE [KEY VALUE ...]
  [[ -z ${TRACE_BENCH_OUT:-} ]] && return 0
  while (($# >= 2)); do printf '%s=%s\n' "$1" "$2" >>"$TRACE_BENCH_OUT"; shift 2; done
}

for tool in wrk nginx jq psql curl; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || { echo "trace.sh: $tool missing; run deploy/setup.sh" >&2; exit 2; }
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

if [[ -z ${TRACE_BENCH_NO_BUILD:-} ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" -j2 --target trace-anchor trace-api trace-admin >/dev/null
fi

dir=$(mktemp -d /tmp/trace-bench-trace-XXXXXX)
chmod 755 "$dir"
anchor_pid="" api_pid="" nginx_pid=""
cleanup() {
  for p in $nginx_pid $api_pid $anchor_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  if [[ -n ${TRACE_BENCH_KEEP:-} ]]; then echo "kept $dir (deploy/stack.sh down $dir when done)" >&2; return; fi
  "$root/deploy/stack.sh" down "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"$root/deploy/stack.sh" up "$dir" --only postgres,anvil 2>/dev/null
set -a
# shellcheck disable=SC1091
source "$dir/env"
set +a
"$build_dir/bin/trace-admin" keys >/dev/null
q() { psql "$TRACE_DB_URL" -XqtAc "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# GTIN-14 of company prefix 9506000 and a 5-digit item reference, with its check digit.
gtin() {
  local d="09506000$1" sum=0 i
  for ((i = 0; i < 13; i++)); do sum=$((sum + ${d:i:1} * (i % 2 ? 1 : 3))); done
  echo "$d$(((10 - sum % 10) % 10))"
}

# --- data ------------------------------------------------------------------------------------
chain_gtins=() products=""
for k in 0 1 2 3 4 5; do
  chain_gtins+=("$(gtin 1000$k)")
  products+="${products:+,}('${chain_gtins[k]}', 'bench', 'Hop $k product')"
done
q "INSERT INTO organizations (id, name) VALUES ('bench', 'Bench');
   INSERT INTO devices (org, device, public_key, mqtt_username)
   SELECT 'bench', d, decode(repeat('ab', 32), 'hex'), 'bench/' || d
   FROM unnest(ARRAY['dev-1', 'hop-0', 'hop-1', 'hop-2', 'hop-3', 'hop-4', 'hop-5']) d;
   INSERT INTO products (gtin, org, name) VALUES $products"

# Filler: one ObjectEvent (shipping, a quantity of one of 50,000 lots of 100 products) per
# envelope, unsigned (neither the anchor nor the trace document checks signatures), with its
# events and event_keys rows as the gateway writes them.
filler() {
  local from=$1 to=$2
  q "INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count)
     SELECT sha256(c), 'bench', 'dev-1', i, c, now(), 'mqtt', 1 FROM
     (SELECT i, convert_to('{\"device\":\"dev-1\",\"events\":[{\"bizStep\":\"shipping\",\"n\":' || i ||
                           '}],\"pad\":\"' || repeat('x', 300) || '\"}', 'UTF8') AS c
      FROM generate_series($from::bigint, $to::bigint) i) s;
     INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, disposition, event_time,
                         event_time_zone_offset, body)
     SELECT id, 0, 'bench', 'ObjectEvent', 'OBSERVE', 'shipping', 'in_transit',
            '2026-01-01T00:00:00Z'::timestamptz + seq * interval '1 second', '+00:00',
            jsonb_build_object('type', 'ObjectEvent', 'eventTime',
              to_char(('2026-01-01T00:00:00Z'::timestamptz + seq * interval '1 second') AT TIME ZONE 'UTC',
                      'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
              'eventTimeZoneOffset', '+00:00', 'action', 'OBSERVE', 'bizStep', 'shipping',
              'quantityList', jsonb_build_array(jsonb_build_object(
                'epcClass', 'urn:epc:class:lgtin:9506000.002' || lpad((seq % 100)::text, 3, '0') || '.F' || (seq / 20),
                'quantity', 10, 'uom', 'KGM')))
     FROM envelopes WHERE device = 'dev-1' AND seq BETWEEN $from AND $to;
     INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, quantity, uom)
     SELECT id, 0, 'epc_class',
            'urn:epc:class:lgtin:9506000.002' || lpad((seq % 100)::text, 3, '0') || '.F' || (seq / 20),
            '0950600002' || lpad((seq % 100)::text, 3, '0') || '0', 'F' || (seq / 20), 10, 'KGM'
     FROM envelopes WHERE device = 'dev-1' AND seq BETWEEN $from AND $to"
}

# The chain: lot HOP-0 commissioned, then HOP-k made from HOP-(k-1) by a TransformationEvent,
# k = 1..5; each lot also shipped, received and watched by a temperature logger (12 readings).
# 24 envelopes of one event each, in the middle of the log.
chain() {
  local arr
  arr=$(printf "'%s'," "${chain_gtins[@]}")
  q "DO \$\$
DECLARE
  g text[] := ARRAY[${arr%,}];
  k int; j int; n bigint := 0;
  t timestamptz := '2026-06-01T00:00:00Z';
  cls text; prev text; ev jsonb; etype text; step text; c bytea; eid bytea; readings jsonb;
BEGIN
  FOR k IN 0..5 LOOP
    cls := 'urn:epc:class:lgtin:9506000.0' || substr(g[k + 1], 9, 5) || '.HOP-' || k;
    FOR j IN 0..3 LOOP
      n := n + 1;
      t := t + interval '7 hours';
      etype := 'ObjectEvent';
      ev := jsonb_build_object('eventTime', to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                               'eventTimeZoneOffset', '+00:00',
                               'readPoint', jsonb_build_object('id', 'urn:epc:id:sgln:9506000.0000' || k || '.0'));
      IF j = 0 AND k = 0 THEN
        step := 'commissioning';
        ev := ev || jsonb_build_object('action', 'ADD', 'disposition', 'active',
          'quantityList', jsonb_build_array(jsonb_build_object('epcClass', cls, 'quantity', 1000, 'uom', 'KGM')),
          'ilmd', jsonb_build_object('cbvmda:countryOfOrigin', 'TH', 'trace:fieldGeo', 'geo:15.2287,104.8564'));
      ELSIF j = 0 THEN
        etype := 'TransformationEvent'; step := 'commissioning';
        ev := ev || jsonb_build_object('disposition', 'active',
          'inputQuantityList', jsonb_build_array(jsonb_build_object('epcClass', prev, 'quantity', 1000, 'uom', 'KGM')),
          'outputQuantityList', jsonb_build_array(jsonb_build_object('epcClass', cls, 'quantity', 900, 'uom', 'KGM')));
      ELSIF j = 3 THEN
        step := 'sensor_reporting';
        SELECT jsonb_agg(jsonb_build_object(
                 'sensorMetadata', jsonb_build_object('time', to_char((t + r * interval '10 minutes') AT TIME ZONE 'UTC',
                                                                      'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')),
                 'sensorReport', jsonb_build_array(jsonb_build_object('type', 'Temperature',
                                                   'value', 4 + (r % 5), 'uom', 'CEL'))))
          INTO readings FROM generate_series(1, 12) r;
        ev := ev || jsonb_build_object('action', 'OBSERVE', 'disposition', 'in_transit',
          'quantityList', jsonb_build_array(jsonb_build_object('epcClass', cls, 'quantity', 900, 'uom', 'KGM')),
          'sensorElementList', readings);
      ELSE
        step := CASE j WHEN 1 THEN 'shipping' ELSE 'receiving' END;
        ev := ev || jsonb_build_object('action', 'OBSERVE', 'disposition', 'in_transit',
          'quantityList', jsonb_build_array(jsonb_build_object('epcClass', cls, 'quantity', 900, 'uom', 'KGM')));
      END IF;
      ev := jsonb_build_object('type', etype, 'bizStep', step) || ev;
      c := convert_to('{\"device\":\"hop-' || k || '\",\"events\":[' || ev::text || '],\"seq\":' || n || '}', 'UTF8');
      eid := sha256(c);
      INSERT INTO envelopes (id, org, device, seq, canonical, sent_at, source, event_count)
        VALUES (eid, 'bench', 'hop-' || k, n, c, now(), 'mqtt', 1);
      INSERT INTO events (envelope_id, idx, org, event_type, action, biz_step, disposition, event_time,
                          event_time_zone_offset, read_point, body)
        VALUES (eid, 0, 'bench', etype, ev->>'action', step, ev->>'disposition', t, '+00:00',
                ev->'readPoint'->>'id', ev);
      IF etype = 'TransformationEvent' THEN
        INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, quantity, uom) VALUES
          (eid, 0, 'input_class', prev, g[k], 'HOP-' || (k - 1), 1000, 'KGM'),
          (eid, 0, 'output_class', cls, g[k + 1], 'HOP-' || k, 900, 'KGM');
      ELSE
        INSERT INTO event_keys (envelope_id, idx, kind, value, gtin, lot, quantity, uom)
          VALUES (eid, 0, 'epc_class', cls, g[k + 1], 'HOP-' || k, 900, 'KGM');
      END IF;
    END LOOP;
    prev := cls;
  END LOOP;
END \$\$"
}

echo "== filling $total envelopes (SQL) ..." >&2
t0=$SECONDS
half=$(((total - 24) / 2))
step=250000
for ((s = 1; s <= half; s += step)); do filler $s $((s + step - 1 < half ? s + step - 1 : half)); done
chain
for ((s = half + 1; s <= total - 24; s += step)); do filler $s $((s + step - 1 < total - 24 ? s + step - 1 : total - 24)); done
q "ANALYZE envelopes; ANALYZE events; ANALYZE event_keys"
echo "   $(q 'SELECT count(*) FROM envelopes') envelopes, $(q 'SELECT count(*) FROM event_keys') event_keys in $((SECONDS - t0)) s" >&2

echo "== trace-anchor: sequencing and anchoring ..." >&2
"$build_dir/bin/trace-anchor" --batch-size 5000 >"$dir/logs/anchor-bench.log" 2>&1 &
anchor_pid=$!
t0=$SECONDS
until [[ $(q "SELECT coalesce(max(tree_size), 0) FROM anchors WHERE state = 'confirmed'") -ge $total ]]; do
  ((SECONDS - t0 < 900)) || { echo "not anchored after 900 s; see $dir/logs/anchor-bench.log" >&2; exit 1; }
  sleep 2
done
echo "   every envelope under a confirmed anchor after $((SECONDS - t0)) s" >&2
kill "$anchor_pid" && wait "$anchor_pid" 2>/dev/null || true
anchor_pid=""

# --- servers ---------------------------------------------------------------------------------
api_port=$(free_port)
# --rate-limit=0: every request comes from 127.0.0.1, which the per-client limit (20/s by
# default) would otherwise answer with 429 from the 41st request on.
"$build_dir/bin/trace-api" --listen="127.0.0.1:$api_port" --rate-limit=0 "${api_args[@]}" >"$dir/logs/api-bench.log" 2>&1 &
api_pid=$!
for _ in $(seq 100); do curl -fsS -m 1 "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
path="/01/${chain_gtins[5]}/10/HOP-5"
mkdir -p "$dir/www" "$dir/nginx-tmp"
curl -fsS -H 'Accept: application/json' "http://127.0.0.1:$api_port$path" -o "$dir/www/trace.json"
chmod -R a+rX "$dir/www"
hops=$(jq 'def d: if (.inputs | length) > 0 then 1 + (.inputs | map(d) | max) else 0 end; d' "$dir/www/trace.json")
events=$(jq '[.. | objects | select(has("envelope") and has("anchored"))] | length' "$dir/www/trace.json")
anchored=$(jq '[.. | objects | select(has("envelope") and has("anchored")) | select(.anchored)] | length' "$dir/www/trace.json")
bytes=$(stat -c %s "$dir/www/trace.json")
echo "   document: $bytes bytes, $hops upstream hops, $events events ($anchored anchored)" >&2
[[ $hops == 5 && $anchored == "$events" ]] || { echo "unexpected document; see $dir/www/trace.json" >&2; exit 1; }

nginx_port=$(free_port)
cat >"$dir/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/logs/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $dir/nginx-tmp/body;
  proxy_temp_path $dir/nginx-tmp/proxy;
  fastcgi_temp_path $dir/nginx-tmp/fastcgi;
  uwsgi_temp_path $dir/nginx-tmp/uwsgi;
  scgi_temp_path $dir/nginx-tmp/scgi;
  server {
    listen 127.0.0.1:$nginx_port;
    root $dir/www;
    default_type application/json;
    location / { try_files /trace.json =404; }
  }
}
EOF
"$nginx_bin" -c "$dir/nginx.conf" -p "$dir" >"$dir/logs/nginx.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 50); do curl -fsS -m 1 "http://127.0.0.1:$nginx_port$path" -o /dev/null 2>/dev/null && break; sleep 0.1; done
cmp -s <(curl -fsS "http://127.0.0.1:$nginx_port$path") "$dir/www/trace.json" || { echo "nginx serves other bytes" >&2; exit 1; }

# --- load ------------------------------------------------------------------------------------
# wrk latency as ms ("850.00us", "1.23ms", "1.05s").
ms() { awk '{ v = $1; if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else if (v ~ /s$/) printf "%.2f", v * 1000; else printf "%s", v }' <<<"$1"; }
run() { # NAME URL [RATE]: prints "rps p50 p99 non2xx"
  local out
  if [[ -n ${3:-} ]]; then
    out=$(RATE=$3 THREADS=$threads wrk -t$threads -c$conns -d${secs}s --latency -s "$here/wrk_paced.lua" "$2")
  else
    out=$(wrk -t$threads -c$conns -d${secs}s --latency -H 'Accept: application/json' "$2")
  fi
  echo "$out" >"$dir/logs/wrk-$1.txt"
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")
  p50=$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
  p99=$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
  bad=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  echo "$rps $p50 $p99 ${bad:-0}"
}
api_url="http://127.0.0.1:$api_port$path" nginx_url="http://127.0.0.1:$nginx_port$path"
run warmup "$api_url" 200 >/dev/null
declare -A R
for rate in 100 500 1000; do R[api-$rate]=$(run api-$rate "$api_url" $rate); done
R[nginx-1000]=$(run nginx-1000 "$nginx_url" 1000)
R[api-max]=$(run api-max "$api_url")
R[nginx-max]=$(run nginx-max "$nginx_url")

echo
echo "trace document: $bytes bytes, $hops hops, $events events; $total envelopes stored; wrk -t$threads -c$conns -d${secs}s"
printf '%-24s %10s %10s %10s %8s\n' "load" "req/s" "p50 ms" "p99 ms" "non-2xx"
for key in api-100 api-500 api-1000 nginx-1000 api-max nginx-max; do
  read -r rps p50 p99 bad <<<"${R[$key]}"
  label=${key/api-/trace-api @ }; label=${label/nginx-/nginx @ }; label=${label/@ max/max}
  printf '%-24s %10s %10s %10s %8s\n' "$label" "$rps" "$p50" "$p99" "$bad"
done
read -r _ _ p99_1000 bad_1000 <<<"${R[api-1000]}"
read -r rps_1000 _ _ _ <<<"${R[api-1000]}"
read -r api_max _ _ _ <<<"${R[api-max]}"
read -r nginx_max _ _ _ <<<"${R[nginx-max]}"
echo
awk -v p="$p99_1000" -v r="$rps_1000" -v b="$bad_1000" 'BEGIN {
  printf "p99 at 1,000 req/s: %.2f ms (achieved %d req/s, %d non-2xx; target <= 20 ms): %s\n", p, r, b,
         (p <= 20 && r >= 950 && b == 0) ? "PASS" : "FAIL" }'
awk -v a="$api_max" -v n="$nginx_max" 'BEGIN {
  printf "throughput: trace-api %d req/s / nginx %d req/s = %.3f (target >= 0.3): %s\n", a, n, a / n,
         (a / n >= 0.3) ? "PASS" : "FAIL" }'
read -r _ p50_1000 _ _ <<<"${R[api-1000]}"
read -r nginx_1000_rps _ nginx_1000_p99 _ <<<"${R[nginx-1000]}"
out_kv trace_p99_1000 "$p99_1000" trace_p50_1000 "$p50_1000" trace_rps_1000 "$rps_1000" trace_bad_1000 "$bad_1000" \
  trace_api_max "$api_max" trace_nginx_max "$nginx_max" trace_nginx_p99_1000 "$nginx_1000_p99" \
  trace_bytes "$bytes" trace_envelopes "$total" trace_seconds "$secs"
# The document cache's counters, when trace-api has them.
metrics=$(curl -fsS "http://127.0.0.1:$api_port/metrics" 2>/dev/null || true)
hits=$(awk '$1 == "trace_api_document_cache_hits_total" { print $2 }' <<<"$metrics")
misses=$(awk '$1 == "trace_api_document_cache_misses_total" { print $2 }' <<<"$metrics")
[[ -z $hits ]] || { echo "document cache: $hits hits, $misses renders"; out_kv trace_cache_hits "$hits" trace_cache_misses "$misses"; }
