#!/usr/bin/env bash
# The demo, farm to shelf: builds, brings the whole stack up on loopback (PostgreSQL, Mosquitto,
# anvil with the TraceAnchor contract, trace-gateway, trace-anchor, trace-api), registers the
# organizations and devices of the simulator's rice and medicine scenarios, publishes their
# signed EPCIS events through the real broker and gateway, waits until every envelope is
# anchored on the chain, then prints for a bag of rice and a box of medicine the QR code, its
# link, and what trace-verify says of it.
#
#   deploy/demo.sh          then keeps a few devices publishing live readings until Ctrl-C,
#                           and takes everything down
#   deploy/demo.sh --once   exits after the checks: 0 only when every one passed (for CI)
#
# The stack lives in ${TRACE_DEMO_DIR:-ROOT/.demo}, emptied first. TRACE_DEMO_NO_BUILD=1 skips
# deploy/build.sh (when ./build is already up to date).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
once=0
case ${1:-} in
  --once) once=1 ;;
  "") ;;
  *)
    echo "usage: deploy/demo.sh [--once]" >&2
    exit 2
    ;;
esac

[[ ${TRACE_DEMO_NO_BUILD:-0} == 1 ]] || "$root/deploy/build.sh"

dir=${TRACE_DEMO_DIR:-$root/.demo}
if [[ -d $dir ]]; then
  "$root/deploy/stack.sh" down "$dir"
  rm -rf "$dir"
fi
mkdir -p "$dir"

stopped=0
sleeper=""
stop_stack() {
  [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null || true
  [[ -z $sleeper ]] || wait "$sleeper" 2>/dev/null || true
  ((stopped)) && return 0
  stopped=1
  "$root/deploy/stack.sh" down "$dir"
}
trap 'stop_stack; exit 130' INT TERM
trap stop_stack EXIT

"$root/deploy/stack.sh" up "$dir" --services
# shellcheck disable=SC1091
source "$dir/env"
bin=$root/build/bin
mqtt_port=${TRACE_MQTT_URL##*:}
sim=("$bin/trace-devicesim" --state-dir "$dir/devices" --keys-dir "$TRACE_KEYS_DIR" --mqtt-url "$TRACE_MQTT_URL")

failed=0
check() {
  local what=$1
  shift
  if "$@"; then
    echo "ok    $what"
  else
    echo "FAIL  $what"
    failed=$((failed + 1))
  fi
}
sql() { psql "$TRACE_DB_URL" -X -qtAc "$1"; }

# 1. The supply chains: organizations and devices registered through trace-admin, every
#    envelope signed on the device, published over MQTT, answered with a signed receipt.
for scenario in rice medicine; do
  echo "== scenario $scenario"
  check "scenario $scenario: every envelope accepted" \
    "${sim[@]}" scenario "$scenario" --register --log-level warn
done

# 2. The producers' dashboard: a sign-in for every organization of the scenarios, and the
#    products named through the producer API as their owners would (session + CSRF token).
demo_password=$(openssl rand -base64 12 | tr -d '/+=')
orgs=(ubon-jasmine-coop mun-river-mill siam-fresh-dist baan-market rhein-excipients deccan-api-labs alpen-pharma
  stadt-apotheke kuehl-logistik)
make_users() {
  local org
  for org in "${orgs[@]}"; do
    "$bin/trace-admin" user create "$org" "demo@$org.example" --role admin --password-file - \
      <<<"$demo_password" >/dev/null || return 1
  done
}
check "a dashboard sign-in for each of the ${#orgs[@]} organizations" make_users
name_product() {
  local org=$1 lot=$2 name=$3 category=$4 jar gtin csrf code
  gtin=$(sql "select gtin from event_keys where lot = '$lot' and gtin is not null order by gtin limit 1")
  [[ -n $gtin ]] || return 1
  jar="$dir/cookies-$org"
  curl -fsS -c "$jar" -H 'Content-Type: application/json' \
    -d "{\"email\":\"demo@$org.example\",\"password\":\"$demo_password\"}" "$TRACE_API_URL/api/v1/session" >/dev/null ||
    return 1
  csrf=$(curl -fsS -b "$jar" "$TRACE_API_URL/api/v1/session" | jq -r .csrf)
  code=$(curl -sS -o /dev/null -w '%{http_code}' -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d "{\"gtin\":\"$gtin\",\"name\":\"$name\",\"category\":\"$category\"}" "$TRACE_API_URL/api/v1/products")
  [[ $code == 201 || $code == 409 ]]
}
check "products named through the producer API" eval \
  'name_product mun-river-mill HM105-2611-A "Hom Mali jasmine rice 5 kg" rice &&
   name_product alpen-pharma LK2-26K014 "Chlorambucil 2 mg tablets, 50" medicine'

# 3. Every stored envelope in the log and covered by a confirmed anchor on the chain.
anchored() {
  [[ $(sql "select (select count(*) from envelopes) > 0 and
                   (select count(*) from envelopes) <=
                   coalesce((select max(tree_size) from anchors where state = 'confirmed'), 0)") == t ]]
}
wait_anchored() {
  local deadline=$((SECONDS + 120))
  until anchored; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}
check "every envelope anchored on the chain" wait_anchored
echo "      $(sql "select count(*) from envelopes") envelopes; newest anchor: tree size" \
  "$(sql "select max(tree_size) from anchors where state = 'confirmed'"), tx" \
  "$(sql "select tx_hash from anchors where state = 'confirmed' order by tree_size desc limit 1")"

# 4. What a consumer scans: a bag of rice at a shop, a box of medicine at the pharmacy.
show_product() {
  local label=$1 epc=$2 gtin serial link out rc=0
  IFS='|' read -r gtin serial < <(sql "select gtin, serial from event_keys where value = '$epc' and gtin is not null limit 1")
  if [[ -z $gtin || -z $serial ]]; then
    echo "      no events name $epc"
    return 1
  fi
  link=$(curl -fsS -H 'Accept: application/json' "$TRACE_API_URL/01/$gtin/21/$serial" | jq -r .link) || return 1
  echo
  echo "== $label"
  qrencode -t ANSIUTF8 -m 2 "$link"
  echo "link:          $link   (a browser gets the consumer page, an API client the trace document)"
  out=$("$bin/trace-verify" "$link" --api-base "$TRACE_API_URL" --chain-rpc "$TRACE_CHAIN_RPC" \
    --contract "$TRACE_CONTRACT" --cache-dir "$dir/verify-cache" 2>&1) || rc=$?
  echo "trace-verify:  $(tail -n 1 <<<"$out")"
  ((rc == 0))
}
check "bag of rice verified" show_product "a 5 kg bag of jasmine rice" "urn:epc:id:sgtin:8850456.000021.100041"
check "box of medicine verified" show_product "a box of chlorambucil 2 mg tablets" "urn:epc:id:sgtin:4098765.000233.K7310001"

cat <<EOF

== the stack ($dir; \`source $dir/env\` to use these)
API:         $TRACE_API_URL   (keys: /api/v1/keys, checkpoint: /api/v1/checkpoint, anchors: /api/v1/anchors)
PostgreSQL:  psql "$TRACE_DB_URL"
Mosquitto:   mosquitto_sub -h 127.0.0.1 -p $mqtt_port -u "\$TRACE_MQTT_GATEWAY_USERNAME" -P "\$TRACE_MQTT_GATEWAY_PASSWORD" -V mqttv5 -t 'trace/v1/+/+/receipt' -v
anvil:       $TRACE_CHAIN_RPC   (TraceAnchor at $TRACE_CONTRACT)
Dashboard:   $TRACE_API_URL/dashboard   sign in as demo@mun-river-mill.example (or demo@ORG.example for
             any organization above) with the password $demo_password
Logs:        $dir/logs/
EOF

if ((failed)); then
  echo "demo: $failed check(s) failed; logs in $dir/logs" >&2
  exit 1
fi
echo "demo: every check passed"
((once == 0)) || exit 0

# Live: a few devices keep publishing readings (one envelope a second) until Ctrl-C.
echo
echo "Devices publishing live readings; Ctrl-C stops everything."
"${sim[@]}" load --register --org demo-live --devices 3 --rate 1 --readings 5 --duration 31536000 \
  --log-level warn >"$dir/logs/live-load.log" 2>&1 &
sleeper=$!
wait "$sleeper" || true
