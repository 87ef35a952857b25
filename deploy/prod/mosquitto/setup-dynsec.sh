#!/usr/bin/env bash
# Prepares a production Mosquitto's dynamic security (deploy/mosquitto/mosquitto-prod.conf) as
# deploy/stack.sh does for the test stack:
#
#   setup-dynsec.sh init FILE           before the first start: FILE (default
#                                       /var/lib/mosquitto/dynamic-security.json) with the admin
#                                       account, and default access deny for everything
#   setup-dynsec.sh roles [HOST:PORT]   on the running broker (default 127.0.0.1:1883): the
#                                       gateway role and the gateway client (idempotent)
#
# Environment: TRACE_MQTT_ADMIN_USERNAME (trace-admin), TRACE_MQTT_ADMIN_PASSWORD (required),
# TRACE_MQTT_GATEWAY_USERNAME (gateway), TRACE_MQTT_GATEWAY_PASSWORD (required for roles).
# Devices are added later by `trace-admin device register` (deploy/mosquitto/README.md).
set -euo pipefail

admin_user=${TRACE_MQTT_ADMIN_USERNAME:-trace-admin}
gateway_user=${TRACE_MQTT_GATEWAY_USERNAME:-gateway}
die() {
  echo "setup-dynsec: $*" >&2
  exit 1
}
[[ -n ${TRACE_MQTT_ADMIN_PASSWORD:-} ]] || die "set TRACE_MQTT_ADMIN_PASSWORD"

cmd_init() {
  local file=${1:-/var/lib/mosquitto/dynamic-security.json}
  [[ ! -e $file ]] || die "$file exists; remove it first to start over"
  mosquitto_ctrl dynsec init "$file" "$admin_user" "$TRACE_MQTT_ADMIN_PASSWORD" >/dev/null
  # mosquitto_ctrl 2.0.11's setDefaultACLAccess sends nothing the broker applies; set it in the file.
  jq '.defaultACLAccess = {"publishClientSend": false, "publishClientReceive": false,
                           "subscribe": false, "unsubscribe": true}' "$file" >"$file.new"
  mv "$file.new" "$file"
  chmod 0600 "$file"
  if id -u mosquitto >/dev/null 2>&1; then chown mosquitto: "$file"; fi
  echo "setup-dynsec: wrote $file (admin $admin_user, default access deny)"
}

cmd_roles() {
  local target=${1:-127.0.0.1:1883}
  [[ -n ${TRACE_MQTT_GATEWAY_PASSWORD:-} ]] || die "set TRACE_MQTT_GATEWAY_PASSWORD"
  ctrl() { mosquitto_ctrl -h "${target%:*}" -p "${target##*:}" -u "$admin_user" -P "$TRACE_MQTT_ADMIN_PASSWORD" dynsec "$@"; }
  # mosquitto_ctrl 2.0.11 exits 0 even when the broker answers an error; it prints "Error" then.
  must() {
    local out
    out=$(ctrl "$@" 2>&1) || die "dynsec $1: $out"
    [[ $out != *Error* ]] || die "dynsec $1: $out"
  }
  if ! ctrl getRole gateway 2>/dev/null | grep -q '^Rolename:'; then
    must createRole gateway
    must addRoleACL gateway subscribePattern 'trace/v1/+/+/up' allow
    # 2.0.11 checks a shared subscription against the whole filter, $share prefix included.
    # shellcheck disable=SC2016  # a literal topic filter
    must addRoleACL gateway subscribePattern '$share/+/trace/v1/+/+/up' allow
    must addRoleACL gateway publishClientReceive 'trace/v1/+/+/up' allow
    must addRoleACL gateway publishClientSend 'trace/v1/+/+/receipt' allow
  fi
  if ! ctrl getClient "$gateway_user" 2>/dev/null | grep -q '^Username:'; then
    must createClient "$gateway_user" -p "$TRACE_MQTT_GATEWAY_PASSWORD"
    must addClientRole "$gateway_user" gateway
  fi
  local acl
  acl=$(ctrl getDefaultACLAccess 2>/dev/null)
  [[ $(tr -d ' ' <<<"$acl") == *"publishClientSend:deny"*"publishClientReceive:deny"*"subscribe:deny"* ]] ||
    die "the broker's default ACL access is not deny: $acl"
  echo "setup-dynsec: gateway role and client $gateway_user ready on $target; default access deny"
}

case ${1:-} in
  init) shift; cmd_init "$@" ;;
  roles) shift; cmd_roles "$@" ;;
  *) die "usage: setup-dynsec.sh init [FILE] | roles [HOST:PORT]" ;;
esac
