#!/usr/bin/env bash
# The demo: builds, brings the whole stack up (PostgreSQL, Mosquitto, anvil, migrations, and
# the project's services as they come to exist) and says how to reach each server.
#
#   deploy/demo.sh          runs until Ctrl-C, then takes the stack down
#   deploy/demo.sh --once   checks that every server answers, takes the stack down, and exits
#                           0 only when every check passed (for CI)
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
  ((stopped)) && return 0
  stopped=1
  "$root/deploy/stack.sh" down "$dir"
}
trap 'stop_stack; exit 130' INT TERM
trap stop_stack EXIT

"$root/deploy/stack.sh" up "$dir" --services
# shellcheck disable=SC1091
source "$dir/env"
mqtt_port=${TRACE_MQTT_URL##*:}

cat <<EOF

== trace demo stack in $dir ==
Environment ($dir/env; \`source\` it to use the commands below):
$(sed 's/^/  /' "$dir/env")

PostgreSQL:  psql "$TRACE_DB_URL"
Mosquitto:   mosquitto_sub -h 127.0.0.1 -p $mqtt_port -u "$TRACE_MQTT_GATEWAY_USERNAME" -P "$TRACE_MQTT_GATEWAY_PASSWORD" \\
               -V mqttv5 -t '\$share/trace-gateways/trace/v1/+/+/up' -v
             admin: mosquitto_ctrl -h 127.0.0.1 -p $mqtt_port -u "$TRACE_MQTT_ADMIN_USERNAME" -P "$TRACE_MQTT_ADMIN_PASSWORD" dynsec listClients
anvil:       curl -s -H 'content-type: application/json' \\
               -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' $TRACE_CHAIN_RPC
Logs:        $dir/logs/
EOF

if ((once == 0)); then
  echo
  echo "Running; Ctrl-C takes the stack down."
  while :; do
    sleep 3600 &
    sleeper=$!
    wait "$sleeper" || true
  done
fi

# --once: every server must answer.
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

check_postgres() {
  [[ $(psql "$TRACE_DB_URL" -X -tAc 'select 1' 2>&1) == 1 ]]
}

check_mqtt_round_trip() {
  local topic="trace/v1/demo/check/up" payload="demo-$RANDOM-$RANDOM" out
  # The gateway subscribes (live); a short-lived device created for the check publishes until
  # the message arrives.
  local ctrl=(mosquitto_ctrl -h 127.0.0.1 -p "$mqtt_port" -u "$TRACE_MQTT_ADMIN_USERNAME"
    -P "$TRACE_MQTT_ADMIN_PASSWORD" dynsec)
  local pass
  pass=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  {
    "${ctrl[@]}" createRole device:demo/check
    "${ctrl[@]}" addRoleACL device:demo/check publishClientSend "$topic" allow
    "${ctrl[@]}" createClient demo/check -p "$pass"
    "${ctrl[@]}" addClientRole demo/check device:demo/check
  } >/dev/null 2>&1
  mosquitto_sub -h 127.0.0.1 -p "$mqtt_port" -u "$TRACE_MQTT_GATEWAY_USERNAME" -P "$TRACE_MQTT_GATEWAY_PASSWORD" \
    -V mqttv5 -q 1 -t "\$share/trace-gateways/trace/v1/+/+/up" -C 1 -W 10 >"$dir/mqtt-check.out" 2>&1 &
  local sub=$!
  for _ in $(seq 1 40); do
    mosquitto_pub -h 127.0.0.1 -p "$mqtt_port" -u demo/check -P "$pass" -V mqttv5 -q 1 -t "$topic" -m "$payload" \
      >/dev/null 2>&1 || true
    kill -0 "$sub" 2>/dev/null || break
    sleep 0.25
  done
  wait "$sub" || true
  out=$(cat "$dir/mqtt-check.out")
  "${ctrl[@]}" deleteClient demo/check >/dev/null 2>&1 || true
  "${ctrl[@]}" deleteRole device:demo/check >/dev/null 2>&1 || true
  [[ $out == "$payload" ]]
}

check_anvil() {
  curl -sS -m 5 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' "$TRACE_CHAIN_RPC" |
    grep -q '"result":"0x'
}

echo
check "PostgreSQL answers select 1" check_postgres
check "MQTT round trip device -> gateway (\$share subscription)" check_mqtt_round_trip
check "anvil answers eth_blockNumber" check_anvil
stop_stack
if ((failed)); then
  echo "demo: $failed check(s) failed; logs kept in $dir/logs" >&2
  exit 1
fi
echo "demo: every check passed"
