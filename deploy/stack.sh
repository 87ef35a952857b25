#!/usr/bin/env bash
# Starts and stops the real servers of a trace stack, with all their data in one directory.
#
#   deploy/stack.sh up DIR [--services] [--only postgres,mosquitto,anvil] [--replica]
#   deploy/stack.sh down DIR
#   deploy/stack.sh stop|start|restart DIR NAME    (NAME: postgres, replica, mosquitto, anvil, or a service
#                                                   such as trace-gateway)
#   deploy/stack.sh kill DIR NAME                  (kill -9 of NAME with all its processes; `start` brings it back)
#
# `up` starts PostgreSQL 15, Mosquitto 2 (dynamic security) and anvil on free 127.0.0.1 ports,
# waits until each answers, deploys the TraceAnchor contract on anvil and applies the migrations
# (build/bin/trace-admin chain deploy and migrate, when built),
# with --services also starts the project's services that exist in build/bin, and writes
# DIR/env: one `export NAME=value` a line (TRACE_DB_URL, TRACE_MQTT_URL, TRACE_CHAIN_RPC,
# TRACE_CHAIN_CONFIRMATIONS=1, the MQTT admin and gateway credentials, TRACE_CONTRACT and TRACE_ANCHOR_KEY_FILE (anvil's account 0, in
# DIR/keys/anchorer.key), TRACE_KEYS_DIR, TRACE_STACK_DIR), for the servers started only.
#
# Every process `up` starts runs in its own session (setsid), and DIR/pids/NAME holds
# "PID STARTTIME" of its leader. `down` signals exactly those leaders (after checking that the
# PID still belongs to the process that was started), waits until their process groups and
# descendants (PostgreSQL's backends start sessions of their own) have exited, SIGKILLs what is
# left after TRACE_STOP_TIMEOUT seconds (15), and leaves nothing behind. `down` works on a
# half-started DIR and on one that is already down; it leaves the data (and DIR/env) in place.
#
# `up` on a DIR whose servers still run refuses (exit 1). `up` on a DIR that was brought down
# starts the same servers on the same data (PostgreSQL cluster, Mosquitto persistence and
# dynamic-security users, anvil's chain state), on the same ports when they are still free.
# A failed `up` stops whatever it had started before exiting non-zero.
#
# `stop` and `start` act on one server or service of a stack that is up, for fault tests: `stop`
# stops it as `down` would (its data stays), `start` starts it again on the same data and, when
# still free, the same port (DIR/env and DIR/services.env are updated if the port changed).
#
# PostgreSQL: superuser `postgres`, application role `trace` (LOGIN CREATEDB, not superuser) owning
# database `trace`; TRACE_DB_URL=postgresql://trace@127.0.0.1:PORT/trace.
# Test-stack only: PostgreSQL trusts every connection on 127.0.0.1 and its socket (no password),
# and Mosquitto listens without TLS; both listen on loopback only. When run as root, PostgreSQL
# runs as the `postgres` account (or a system account `trace`, created if neither exists).
#
# `kill` is a crash, for the chaos test (tests/chaos): SIGKILL at once to the server's leader, its process
# group and every descendant (all of PostgreSQL's backends too), then waits until they are gone. Nothing is
# saved on the way out: PostgreSQL recovers from its WAL at the next `start`, Mosquitto restarts from its
# last autosave (autosave_interval), anvil from its last --state-interval dump. Killing a server that is
# not running is not an error (it says so).
#
# `stop` stops one server or service of a running stack (SIGTERM; PostgreSQL gets SIGINT) and waits until
# it is gone; `start` starts it again with the same data and configuration (the same start function as `up`,
# on the same port when it is free; DIR/env is updated if a port changed); `restart` is both. Tests use them to
# restart the broker or the database under load, as an operator would. Mosquitto saves its persistence file
# on SIGTERM, so persistent sessions and their queued QoS 1 messages survive a restart.
#
# Streaming replica (opt-in: --replica, `replica` in --only, or TRACE_STACK_REPLICA=1): a second
# PostgreSQL made by pg_basebackup -R from the primary (physical replication slot trace_replica),
# a hot standby on its own free port, data in DIR/replica. It adds TRACE_REPLICA_DB_URL and
# TRACE_API_READ_DB_URL (so a trace-api started by --services reads its public routes from it).
# It follows the primary at the primary's recorded port; `stop DIR replica` / `start DIR replica`
# act on it alone.
#
# Environment: TRACE_BIN_DIR (default ROOT/build/bin) is where trace-admin and the services are.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin_dir=${TRACE_BIN_DIR:-$root/build/bin}
pg_bin=${TRACE_PG_BIN:-/usr/lib/postgresql/15/bin}
anvil_bin=$root/deploy/node_modules/.bin/anvil
all_servers=(postgres replica mosquitto anvil)
# Project services started by --services, in start order, when their executable exists in
# bin_dir.
services=(trace-gateway trace-anchor trace-api)
stop_timeout=${TRACE_STOP_TIMEOUT:-15}
ready_timeout=${TRACE_READY_TIMEOUT:-60}

log() { echo "stack: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}

usage() {
  cat >&2 <<'EOF'
usage: deploy/stack.sh up DIR [--services] [--only postgres,mosquitto,anvil] [--replica]
       deploy/stack.sh down DIR
       deploy/stack.sh stop|start|restart DIR NAME
       deploy/stack.sh kill DIR NAME
EOF
  exit 2
}

# ---------------------------------------------------------------------------------------------
# Processes

# The start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), or nothing.
start_time() {
  local line
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 0
  # The command name (field 2) may hold spaces; the fields after it start past the last ')'.
  # shellcheck disable=SC2086
  set -- ${line##*) }
  # A zombie has exited; it waits only for its parent (init, once `up` has exited) to reap it.
  [[ $1 == [ZX] ]] && return 0
  echo "${20}"
}

# Succeeds while the process recorded as "PID STARTTIME" in FILE is the one still running.
recorded_alive() {
  local file=$1 pid st
  [[ -f $file ]] || return 1
  read -r pid st <"$file" || return 1
  [[ -n ${pid:-} && -n ${st:-} ]] || return 1
  [[ "$(start_time "$pid")" == "$st" ]]
}

# Adds to the associative array `tracked` (pid -> start time) every process in the process
# group LEADER and every descendant of a tracked process, and sets `alive` to the tracked
# processes that still run. PostgreSQL's backends put themselves in sessions of their own,
# so the group alone would miss them; after their postmaster dies they are reparented, so
# they must be tracked before it is signalled.
declare -A tracked=()
scan_tree() {
  local leader=$1 f line pid ppid
  local -A ppid_of=() pgrp_of=() st_of=()
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}
    # shellcheck disable=SC2086
    set -- ${line##*) }
    [[ $1 == [ZX] ]] && continue # exited, not yet reaped
    ppid_of[$pid]=$2 pgrp_of[$pid]=$3 st_of[$pid]=${20}
  done
  for _ in 1 2 3; do
    for pid in "${!st_of[@]}"; do
      [[ -n ${tracked[$pid]:-} ]] && continue
      ppid=${ppid_of[$pid]}
      if [[ ${pgrp_of[$pid]} == "$leader" ]] ||
        [[ -n ${tracked[$ppid]:-} && ${st_of[$ppid]:-} == "${tracked[$ppid]}" ]]; then
        tracked[$pid]=${st_of[$pid]}
      fi
    done
  done
  alive=()
  for pid in "${!tracked[@]}"; do
    [[ ${st_of[$pid]:-} == "${tracked[$pid]}" ]] && alive+=("$pid")
  done
  return 0
}

# PIDs of the processes whose process group is PGID.
group_members() {
  local pgid=$1 f line
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    # shellcheck disable=SC2086
    set -- ${line##*) }
    [[ $1 != [ZX] && "${3:-}" == "$pgid" ]] && echo "${line%% *}"
  done
  return 0
}

# Starts a command in its own session with stdin from /dev/null and output to LOG, and
# records it as DIR/pids/NAME. Sets `started_pid`.
spawn() {
  local name=$1 logfile=$2
  shift 2
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  started_pid=$!
  local st=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    st=$(start_time "$started_pid")
    [[ -n $st ]] && break
    sleep 0.05
  done
  [[ -n $st ]] || die "$name exited at once; see $logfile"
  echo "$started_pid $st" >"$dir/pids/$name"
}

# Stops the process recorded in DIR/pids/NAME with SIGNAL and waits until it, its process
# group and its descendants are gone; SIGKILL for all of them after stop_timeout seconds.
# Removes the record when nothing is left.
stop_one() {
  local name=$1 sig=$2 file="$dir/pids/$1" pid st
  [[ -f $file ]] || return 0
  read -r pid st <"$file" || true
  if [[ -z ${pid:-} || -z ${st:-} ]]; then
    rm -f "$file"
    return 0
  fi
  tracked=()
  alive=()
  # The leader started its own session, so its group id is its pid. While any member of
  # that group lives the id cannot be reused, so whatever is in it is ours.
  if recorded_alive "$file"; then tracked[$pid]=$st; fi
  scan_tree "$pid"
  if recorded_alive "$file"; then
    log "stopping $name (pid $pid)"
    kill "-$sig" "$pid" 2>/dev/null || true
  elif ((${#alive[@]})); then
    log "stopping what is left of $name: ${alive[*]}"
    kill -TERM "${alive[@]}" 2>/dev/null || true
  fi
  local deadline=$((SECONDS + stop_timeout)) killed=0
  while :; do
    scan_tree "$pid"
    ((${#alive[@]})) || break
    if ((SECONDS >= deadline)); then
      ((killed == 0)) || die "$name: processes ${alive[*]} survive SIGKILL"
      log "$name did not stop within ${stop_timeout}s; killing ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      killed=1
      deadline=$((SECONDS + 5))
    fi
    sleep 0.1
  done
  rm -f "$file"
}

# Kills the process recorded in DIR/pids/NAME, its process group and its descendants with
# SIGKILL all at once (a crash, not a shutdown), waits until none is left and removes the
# record. Dies if any survives 10 seconds of SIGKILL.
kill_one() {
  local name=$1 file="$dir/pids/$1" pid st
  if [[ ! -f $file ]]; then
    log "$name is not running; nothing to kill"
    return 0
  fi
  read -r pid st <"$file" || true
  if [[ -z ${pid:-} || -z ${st:-} ]]; then
    rm -f "$file"
    return 0
  fi
  tracked=()
  alive=()
  if recorded_alive "$file"; then tracked[$pid]=$st; fi
  scan_tree "$pid"
  if ((${#alive[@]} == 0)); then
    log "$name (pid $pid) had already exited"
    rm -f "$file"
    return 0
  fi
  log "kill -9 $name: ${alive[*]}"
  # The leader first: a postmaster that outlives its children by a moment starts a crash
  # restart of its own.
  if recorded_alive "$file"; then kill -KILL "$pid" 2>/dev/null || true; fi
  local deadline=$((SECONDS + 10))
  while ((${#alive[@]})); do
    kill -KILL "${alive[@]}" 2>/dev/null || true
    sleep 0.05
    # Descendants forked meanwhile are found by the next scan (their parent is tracked).
    scan_tree "$pid"
    ((SECONDS < deadline)) || die "$name: processes ${alive[*]} survive SIGKILL"
  done
  rm -f "$file"
  # The killed postmaster stays a zombie until init reaps it, which can take seconds, and a
  # lock file naming a PID that exists (even a zombie) stops the next start: postmaster.pid
  # and the socket's .s.PGSQL.PORT.lock. Every process of the server is gone now, none
  # attached to its shared memory: the locks are stale.
  if [[ $name == postgres ]]; then
    rm -f "$dir/postgres/data/postmaster.pid" "$dir"/postgres/run/.s.PGSQL.*.lock
  fi
}

# ---------------------------------------------------------------------------------------------
# Ports

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A port on 127.0.0.1 that nothing listens on. Prefers the one recorded for NAME by an earlier
# `up` of this DIR, so clients that kept the URL reconnect after a restart.
pick_port() {
  local name=$1 file="$dir/ports/$1" port
  if [[ -f $file ]]; then
    port=$(cat "$file")
    if port_free "$port"; then
      echo "$port"
      return
    fi
  fi
  if command -v python3 >/dev/null 2>&1; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  else
    while :; do
      port=$((20000 + RANDOM % 40000))
      port_free "$port" && break
    done
  fi
  echo "$port" >"$file"
  echo "$port"
}

# Waits until `CMD...` succeeds against the server recorded as NAME, whose output goes to
# LOGFILE from byte OFFSET on. Returns 1 when the server exited because its port was taken
# meanwhile (another stack picked the same port: the caller picks another); dies on any
# other exit or after ready_timeout seconds.
wait_ready() {
  local name=$1 logfile=$2 offset=$3
  shift 3
  local deadline=$((SECONDS + ready_timeout)) ready=0
  while :; do
    "$@" >/dev/null 2>&1 && ready=1
    # Ready only if the answer came from our process, not from another one on that port.
    if recorded_alive "$dir/pids/$name" && ! port_taken_in_log "$logfile" "$offset"; then
      ((ready)) && return 0
    else
      sleep 0.3
      if port_taken_in_log "$logfile" "$offset"; then
        log "$name: port taken meanwhile; trying another"
        stop_one "$name" TERM
        rm -f "$dir/ports/$name"
        return 1
      fi
      recorded_alive "$dir/pids/$name" || {
        tail -n 20 "$logfile" >&2 || true
        die "$name exited while starting; see $logfile"
      }
    fi
    ((SECONDS < deadline)) || die "$name not ready after ${ready_timeout}s; see $logfile"
    sleep 0.2
  done
}

port_taken_in_log() {
  tail -c +"$(($2 + 1))" "$1" 2>/dev/null | grep -qi 'address already in use'
}

log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

random_secret() {
  head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

pg_user=""
as_pg() {
  if [[ -n $pg_user ]]; then
    setpriv --reuid="$pg_user" --regid="$(id -g "$pg_user")" --init-groups -- "$@"
  else
    "$@"
  fi
}

choose_pg_user() {
  [[ $(id -u) -eq 0 ]] || return 0
  if id -u postgres >/dev/null 2>&1; then
    pg_user=postgres
  else
    id -u trace >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin trace
    pg_user=trace
  fi
  # The server account must be able to reach DIR; a mktemp directory is 0700.
  if ! as_pg test -x "$dir"; then
    chmod o+x "$dir"
    as_pg test -x "$dir" || die "the $pg_user account cannot reach $dir (a parent directory is closed)"
  fi
}

start_postgres() {
  local data="$dir/postgres/data" run="$dir/postgres/run" logfile="$dir/logs/postgres.log"
  choose_pg_user
  mkdir -p "$dir/postgres" "$run"
  [[ -z $pg_user ]] || chown -R "$pg_user:" "$dir/postgres"
  chmod 0700 "$dir/postgres"
  if [[ ! -f $data/PG_VERSION ]]; then
    log "initdb $data"
    as_pg "$pg_bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-instructions >>"$logfile" 2>&1 || die "initdb failed; see $logfile"
    # A socket path longer than 107 bytes cannot be bound; then TCP only.
    local sockets="'$run'"
    ((${#run} + 20 < 107)) || sockets="''"
    cat >>"$data/postgresql.conf" <<EOF

# trace test stack (deploy/stack.sh); the port is given on the command line.
listen_addresses = '127.0.0.1'
unix_socket_directories = $sockets
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  fi
  # A postmaster that was killed leaves postmaster.pid behind. PostgreSQL ignores a stale one,
  # but takes an exited postmaster that init has not reaped yet (a zombie) for a live one.
  if [[ -f $data/postmaster.pid ]]; then
    local old state deadline=$((SECONDS + 10))
    read -r old <"$data/postmaster.pid" || old=""
    while [[ -n $old ]] && state=$(cut -d')' -f2 "/proc/$old/stat" 2>/dev/null) &&
      [[ $state == " Z"* ]] && ((SECONDS < deadline)); do
      sleep 0.1
    done
  fi
  local port
  serve_postgres postgres "$data" "$logfile"
  port=$served_port
  local psql=("$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
  if [[ -z $("${psql[@]}" -tAc "select 1 from pg_roles where rolname = 'trace'") ]]; then
    "${psql[@]}" -c "create role trace login createdb" >>"$logfile" 2>&1 || die "create role failed"
  fi
  if [[ -z $("${psql[@]}" -tAc "select 1 from pg_database where datname = 'trace'") ]]; then
    "${psql[@]}" -c "create database trace owner trace" >>"$logfile" 2>&1 || die "create database failed"
  fi
  env_lines+=("export TRACE_DB_URL=postgresql://trace@127.0.0.1:$port/trace")
}

# Starts a PostgreSQL server NAME (postgres or replica) on data folder DATA, logging to LOGFILE,
# on a free loopback port (another one if the port was taken meanwhile), and waits until it
# answers; sets served_port. As root, setpriv execs the server under the PostgreSQL account
# without forking, so the recorded PID is the postmaster itself.
served_port=""
serve_postgres() {
  local name=$1 data=$2 logfile=$3 as=() port offset attempt
  [[ -z $pg_user ]] || as=(setpriv --reuid="$pg_user" --regid="$(id -g "$pg_user")" --init-groups --)
  for attempt in 1 2 3 4; do
    ((attempt < 4)) || die "$name: no free port after 3 tries"
    port=$(pick_port "$name")
    log "$name on 127.0.0.1:$port"
    offset=$(log_size "$logfile")
    spawn "$name" "$logfile" "${as[@]}" "$pg_bin/postgres" -D "$data" -p "$port"
    wait_ready "$name" "$logfile" "$offset" \
      "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres && break
  done
  served_port=$port
}

# A hot standby of the primary, made once with pg_basebackup -R (which writes primary_conninfo and
# standby.signal), streaming through the physical replication slot trace_replica. initdb's
# pg_hba.conf already lets 127.0.0.1 connect for replication, and PostgreSQL 15's defaults
# (wal_level replica, max_wal_senders 10, hot_standby on) are what streaming needs.
start_replica() {
  local data="$dir/replica/data" run="$dir/replica/run" logfile="$dir/logs/replica.log" primary
  choose_pg_user
  [[ -f $dir/ports/postgres ]] || die "replica: the primary has no recorded port; start postgres first"
  primary=$(cat "$dir/ports/postgres")
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$primary" -U postgres -d postgres ||
    die "replica: the primary does not answer on 127.0.0.1:$primary"
  mkdir -p "$dir/replica" "$run"
  [[ -z $pg_user ]] || chown -R "$pg_user:" "$dir/replica"
  chmod 0700 "$dir/replica"
  if [[ ! -f $data/PG_VERSION ]]; then
    log "pg_basebackup from 127.0.0.1:$primary into $data"
    local slot=(--create-slot --slot=trace_replica)
    # A replica made again (its data removed) reuses the slot the first one created.
    [[ -n $("$pg_bin/psql" -X -h 127.0.0.1 -p "$primary" -U postgres -d postgres -tAc \
      "select 1 from pg_replication_slots where slot_name = 'trace_replica'") ]] && slot=(--slot=trace_replica)
    as_pg "$pg_bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$data" -R -X stream \
      --checkpoint=fast "${slot[@]}" >>"$logfile" 2>&1 || die "pg_basebackup failed; see $logfile"
    local sockets="'$run'"
    ((${#run} + 20 < 107)) || sockets="''"
    cat >>"$data/postgresql.conf" <<EOF

# trace test stack: streaming replica of the primary (deploy/stack.sh start_replica).
unix_socket_directories = $sockets
hot_standby = on
hot_standby_feedback = on
EOF
  fi
  local port
  serve_postgres replica "$data" "$logfile"
  port=$served_port
  env_lines+=(
    "export TRACE_REPLICA_DB_URL=postgresql://trace@127.0.0.1:$port/trace"
    "export TRACE_API_READ_DB_URL=postgresql://trace@127.0.0.1:$port/trace"
  )
}

# ---------------------------------------------------------------------------------------------
# Mosquitto

dynsec_plugin() {
  local p
  for p in /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so \
    /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so; do
    [[ -f $p ]] && {
      echo "$p"
      return
    }
  done
  die "mosquitto_dynamic_security.so not found (install the mosquitto package)"
}

mqtt_admin_user=trace-admin
mqtt_gateway_user=gateway

ctrl() {
  mosquitto_ctrl -h 127.0.0.1 -p "$mqtt_port" -u "$mqtt_admin_user" -P "$mqtt_admin_pass" dynsec "$@"
}
# mosquitto_ctrl 2.0.11 exits 0 even when the broker answers an error; it prints "Error" then.
ctrl_must() {
  local out
  out=$(ctrl "$@" 2>&1) || die "mosquitto_ctrl dynsec $1: $out"
  echo "dynsec $1 ${2:-}: $out" >>"$dir/logs/mosquitto-ctrl.log"
  [[ $out != *Error* ]] || die "mosquitto_ctrl dynsec $1: $out"
}

# The broker's ACLs: deny by default; the `gateway` role reads every device's up topic (also
# through the shared subscription) and writes every receipt topic. Devices get their own
# client and role from `trace-admin device register` (deploy/mosquitto/README.md).
setup_mqtt_acl() {
  if ! ctrl getRole gateway 2>/dev/null | grep -q '^Rolename:'; then
    ctrl_must createRole gateway
    ctrl_must addRoleACL gateway subscribePattern 'trace/v1/+/+/up' allow
    # Mosquitto 2.0.11 checks a shared subscription against the whole filter, prefix included.
    # shellcheck disable=SC2016  # a literal topic filter
    ctrl_must addRoleACL gateway subscribePattern '$share/+/trace/v1/+/+/up' allow
    ctrl_must addRoleACL gateway publishClientReceive 'trace/v1/+/+/up' allow
    ctrl_must addRoleACL gateway publishClientSend 'trace/v1/+/+/receipt' allow
  fi
  if ! ctrl getClient "$mqtt_gateway_user" 2>/dev/null | grep -q '^Username:'; then
    ctrl_must createClient "$mqtt_gateway_user" -p "$mqtt_gateway_pass"
    ctrl_must addClientRole "$mqtt_gateway_user" gateway
  fi
  local acl
  acl=$(ctrl getDefaultACLAccess 2>/dev/null)
  [[ $(tr -d ' ' <<<"$acl") == *"publishClientSend:deny"*"publishClientReceive:deny"*"subscribe:deny"* ]] ||
    die "the broker's default ACL access is not deny: $acl"
}

start_mosquitto() {
  local m="$dir/mosquitto" logfile="$dir/logs/mosquitto.log" creds="$dir/mosquitto/credentials"
  mkdir -p "$m"
  chmod 0700 "$m"
  if [[ -f $creds ]]; then
    # shellcheck disable=SC1090
    source "$creds"
  else
    mqtt_admin_pass=$(random_secret)
    mqtt_gateway_pass=$(random_secret)
    (
      umask 077
      printf 'mqtt_admin_pass=%s\nmqtt_gateway_pass=%s\n' "$mqtt_admin_pass" "$mqtt_gateway_pass" >"$creds"
    )
  fi
  # The dynamic-security file holds every client's password hash: owner only, also when the
  # broker rewrites it (it inherits our umask).
  local saved_umask
  saved_umask=$(umask)
  umask 077
  if [[ ! -f $m/dynamic-security.json ]]; then
    mosquitto_ctrl dynsec init "$m/dynamic-security.json" "$mqtt_admin_user" "$mqtt_admin_pass" \
      >>"$logfile" 2>&1 || die "mosquitto_ctrl dynsec init failed; see $logfile"
    # Deny by default: a client may send, receive or subscribe only where a role allows it.
    # (Set in the file before the first start: `mosquitto_ctrl dynsec setDefaultACLAccess`
    # of 2.0.11 sends nothing the broker applies.)
    jq '.defaultACLAccess = {"publishClientSend": false, "publishClientReceive": false,
                             "subscribe": false, "unsubscribe": true}' \
      "$m/dynamic-security.json" >"$m/dynamic-security.json.new"
    mv "$m/dynamic-security.json.new" "$m/dynamic-security.json"
  fi
  chmod 0600 "$m/dynamic-security.json"
  local plugin offset attempt
  plugin=$(dynsec_plugin)
  for attempt in 1 2 3 4; do
    ((attempt < 4)) || die "mosquitto: no free port after 3 tries"
    mqtt_port=$(pick_port mosquitto)
    sed -e "s|@PORT@|$mqtt_port|g" -e "s|@DIR@|$dir|g" -e "s|@USER@|$(id -un)|g" \
      -e "s|@DYNSEC_PLUGIN@|$plugin|g" "$root/deploy/mosquitto/mosquitto.conf.in" >"$m/mosquitto.conf"
    log "mosquitto on 127.0.0.1:$mqtt_port"
    offset=$(log_size "$logfile")
    spawn mosquitto "$logfile" mosquitto -c "$m/mosquitto.conf"
    wait_ready mosquitto "$logfile" "$offset" ctrl getDefaultACLAccess && break
  done
  umask "$saved_umask"
  setup_mqtt_acl
  env_lines+=(
    "export TRACE_MQTT_URL=tcp://127.0.0.1:$mqtt_port"
    "export TRACE_MQTT_ADMIN_USERNAME=$mqtt_admin_user"
    "export TRACE_MQTT_ADMIN_PASSWORD=$mqtt_admin_pass"
    "export TRACE_MQTT_GATEWAY_USERNAME=$mqtt_gateway_user"
    "export TRACE_MQTT_GATEWAY_PASSWORD=$mqtt_gateway_pass"
  )
}

# ---------------------------------------------------------------------------------------------
# anvil

chain_id_is() {
  local port=$1 want=$2 out
  out=$(curl -sS -m 2 -H 'content-type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$port") || return 1
  [[ $out == *"\"result\":\"$want\""* ]]
}

start_anvil() {
  local a="$dir/anvil" logfile="$dir/logs/anvil.log"
  if [[ ! -x $anvil_bin ]]; then
    log "anvil missing; running deploy/setup.sh"
    "$root/deploy/setup.sh" || true
    [[ -x $anvil_bin ]] || die "anvil not installed at $anvil_bin"
  fi
  mkdir -p "$a"
  local port offset attempt
  for attempt in 1 2 3 4; do
    ((attempt < 4)) || die "anvil: no free port after 3 tries"
    port=$(pick_port anvil)
    log "anvil on 127.0.0.1:$port"
    offset=$(log_size "$logfile")
    # --state loads the chain at start and writes it at exit; --state-interval also writes it
    # every few seconds, so even a killed anvil keeps most of its chain.
    spawn anvil "$logfile" "$anvil_bin" --host 127.0.0.1 --port "$port" --chain-id 31337 \
      --block-time 1 --state "$a/state.json" --state-interval 2
    wait_ready anvil "$logfile" "$offset" chain_id_is "$port" 0x7a69 && break
  done
  # One confirmation: this anvil is one node mining every second; nothing but an explicit
  # anvil_reorg/anvil_rollback (the system tests) removes a block, and trace-anchor re-anchors
  # a confirmed checkpoint that a reorganization removed (services/anchor/README.md).
  env_lines+=("export TRACE_CHAIN_RPC=http://127.0.0.1:$port" "export TRACE_CHAIN_CONFIRMATIONS=1")
  deploy_contract "http://127.0.0.1:$port"
}

# anvil's dev account 0: its well-known key anchors on the test chain (never on a real one).
anvil_key0=0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80

has_code() {
  local rpc=$1 address=$2 out
  out=$(curl -sS -m 5 -H 'content-type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getCode\",\"params\":[\"$address\",\"latest\"]}" "$rpc") ||
    return 1
  [[ $out == *'"result":"0x'[0-9a-f]* && $out != *'"result":"0x"'* ]]
}

# Deploys TraceAnchor with trace-admin when it is built, from anvil's account 0 whose key goes
# to DIR/keys/anchorer.key (mode 0600), and adds TRACE_CONTRACT and TRACE_ANCHOR_KEY_FILE to the
# environment. An `up` of a DIR whose chain state already holds the contract reuses it.
deploy_contract() {
  local admin="$bin_dir/trace-admin" rpc=$1 key="$dir/keys/anchorer.key" record="$dir/anvil/contract"
  if [[ ! -x $admin ]]; then
    log "note: $admin not built; TraceAnchor not deployed"
    return 0
  fi
  (umask 077 && echo "$anvil_key0" >"$key")
  chmod 0600 "$key"
  local contract=""
  if [[ -f $record ]] && has_code "$rpc" "$(cat "$record")"; then
    contract=$(cat "$record")
    log "TraceAnchor already at $contract"
  else
    log "trace-admin chain deploy"
    local out
    out=$("$admin" chain deploy --json --rpc "$rpc" --key-file "$key" 2>>"$dir/logs/deploy.log") ||
      die "trace-admin chain deploy failed: $out; see $dir/logs/deploy.log"
    echo "$out" >>"$dir/logs/deploy.log"
    contract=$(jq -er .contract <<<"$out") || die "trace-admin chain deploy printed no contract: $out"
    echo "$contract" >"$record"
    log "TraceAnchor at $contract"
  fi
  env_lines+=("export TRACE_CONTRACT=$contract" "export TRACE_ANCHOR_KEY_FILE=$key")
}

# ---------------------------------------------------------------------------------------------
# Migrations and services

# Applies the schema migrations with trace-admin when it is built; otherwise says so.
migrate() {
  local admin="$bin_dir/trace-admin"
  if [[ ! -x $admin ]]; then
    log "note: $admin not built; migrations not applied"
    return 0
  fi
  log "trace-admin migrate"
  (
    # shellcheck disable=SC1091
    source "$dir/env.partial"
    "$admin" migrate
  ) >>"$dir/logs/migrate.log" 2>&1 || die "trace-admin migrate failed; see $dir/logs/migrate.log"
}

start_services() {
  local name exe admin="$bin_dir/trace-admin"
  # The services sign with the platform keys; create them once if missing (never replaced).
  if [[ -x $admin ]]; then
    (
      # shellcheck disable=SC1091
      source "$dir/env.partial"
      "$admin" keys
    ) >>"$dir/logs/keys.log" 2>&1 || die "trace-admin keys failed; see $dir/logs/keys.log"
  fi
  # trace-api listens on a port of its own; TRACE_API_URL reaches DIR/env with the rest.
  if [[ -x $bin_dir/trace-api ]]; then
    local api_port
    api_port=$(pick_port trace-api)
    printf '%s\n' "export TRACE_API_LISTEN=127.0.0.1:$api_port" "export TRACE_API_URL=http://127.0.0.1:$api_port" \
      >>"$dir/env.partial"
  fi
  # Services read their configuration from a file that stays in place (env.partial becomes env
  # when `up` finishes, possibly before a service's shell has read it).
  install -m 0600 "$dir/env.partial" "$dir/services.env"
  for name in "${services[@]}"; do
    start_service "$name" "$dir/services.env"
    if [[ $name == trace-api && -x $bin_dir/trace-api ]]; then
      wait_ready trace-api "$dir/logs/$name.log" 0 curl -fsS -m 2 "http://127.0.0.1:$api_port/healthz"
    fi
  done
}

# Starts service NAME from bin_dir with the environment file ENVFILE, unless it is not built.
start_service() {
  local name=$1 envfile=$2 exe="$bin_dir/$1"
  if [[ ! -x $exe ]]; then
    log "note: $exe not built; not started"
    return 0
  fi
  log "starting $name"
  # shellcheck disable=SC2016  # expanded by the inner bash
  spawn "$name" "$dir/logs/$name.log" bash -c 'set -a; source "$1"; shift; exec "$@"' _ "$envfile" "$exe"
}

# ---------------------------------------------------------------------------------------------
# Commands

any_running() {
  local f
  for f in "$dir"/pids/*; do
    [[ -f $f ]] || continue
    recorded_alive "$f" && return 0
    # A leader gone with its group still alive (PostgreSQL backends) counts as running.
    local pid
    read -r pid _ <"$f" || continue
    [[ -n $(group_members "$pid") ]] && return 0
  done
  return 1
}

cmd_down() {
  [[ -d $dir ]] || {
    log "$dir does not exist; nothing to stop"
    return 0
  }
  mkdir -p "$dir/pids"
  local f name
  # Services first (anything that is not a server), then the servers in reverse start order.
  for f in "$dir"/pids/*; do
    [[ -f $f ]] || continue
    name=$(basename "$f")
    [[ " ${all_servers[*]} " == *" $name "* ]] || stop_one "$name" TERM
  done
  stop_one anvil TERM
  stop_one mosquitto TERM
  # SIGINT is PostgreSQL's fast shutdown: it does not wait for clients to disconnect.
  stop_one replica INT
  stop_one postgres INT
  log "down: $dir"
}

# Replaces (or adds) the `export NAME=` lines of env_lines in FILE, if FILE exists.
merge_env() {
  local file=$1 line name tmp
  [[ -f $file ]] || return 0
  tmp=$(mktemp "$file.XXXXXX")
  cp "$file" "$tmp"
  for line in "${env_lines[@]}"; do
    name=${line%%=*}
    grep -v -F "$name=" "$tmp" >"$tmp.new" || true
    echo "$line" >>"$tmp.new"
    mv "$tmp.new" "$tmp"
  done
  chmod 0600 "$tmp"
  mv "$tmp" "$file"
}

up_done=0
on_up_exit() {
  local rc=$?
  if ((up_done == 0)); then
    trap - EXIT
    log "up failed; stopping what was started"
    cmd_down || true
    exit $((rc == 0 ? 1 : rc))
  fi
}

cmd_up() {
  local with_services=0 only="postgres,mosquitto,anvil" replica=0
  [[ ${TRACE_STACK_REPLICA:-0} == 1 ]] && replica=1
  while (($#)); do
    case $1 in
      --services) with_services=1 ;;
      --replica) replica=1 ;;
      --only)
        [[ $# -ge 2 ]] || usage
        only=$2
        shift
        ;;
      --only=*) only=${1#--only=} ;;
      *) usage ;;
    esac
    shift
  done
  local want=() s
  IFS=, read -r -a want <<<"$only"
  ((replica)) && want+=(replica)
  for s in "${want[@]}"; do
    [[ " ${all_servers[*]} " == *" $s "* ]] || die "unknown server '$s' (postgres, replica, mosquitto, anvil)"
  done
  if [[ " ${want[*]} " == *" replica "* && " ${want[*]} " != *" postgres "* ]]; then
    die "the replica needs postgres in --only"
  fi

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  mkdir -p "$dir/pids" "$dir/ports" "$dir/logs"
  if any_running; then
    log "a stack is already running in $dir; run 'deploy/stack.sh down $dir' first"
    exit 1
  fi
  trap on_up_exit EXIT
  install -d -m 0700 "$dir/keys"
  env_lines=()
  rm -f "$dir/env"
  for s in "${all_servers[@]}"; do
    [[ " ${want[*]} " == *" $s "* ]] && "start_$s"
  done
  env_lines+=("export TRACE_KEYS_DIR=$dir/keys" "export TRACE_STACK_DIR=$dir")
  printf '%s\n' "${env_lines[@]}" >"$dir/env.partial"
  chmod 0600 "$dir/env.partial"
  if [[ " ${want[*]} " == *" postgres "* ]]; then migrate; fi
  if ((with_services)); then start_services; fi
  mv "$dir/env.partial" "$dir/env"
  up_done=1
  trap - EXIT
  log "up: $dir (environment in $dir/env)"
}

# Replaces in DIR/env the lines that env_lines sets again (a server restarted on another port).
cmd_one() {
  local action=$1 name=$2
  [[ -f $dir/env ]] || die "$dir has no env; run 'deploy/stack.sh up $dir' first"
  local is_server=0
  [[ " ${all_servers[*]} " == *" $name "* ]] && is_server=1
  if ((!is_server)) && [[ " ${services[*]} " != *" $name "* ]]; then
    die "unknown server or service '$name' (${all_servers[*]} ${services[*]})"
  fi
  if [[ $action == kill ]]; then
    kill_one "$name"
    log "killed $name"
    return 0
  fi
  if [[ $action == stop || $action == restart ]]; then
    local sig=TERM
    [[ $name == postgres || $name == replica ]] && sig=INT
    stop_one "$name" "$sig"
    log "stopped $name"
  fi
  if [[ $action == start || $action == restart ]]; then
    mkdir -p "$dir/pids" "$dir/ports" "$dir/logs"
    recorded_alive "$dir/pids/$name" && die "$name is already running"
    env_lines=()
    if ((is_server)); then
      "start_$name"
      merge_env "$dir/env"
      merge_env "$dir/services.env"
    else
      start_service "$name" "$dir/services.env"
    fi
    log "started $name"
  fi
}

(($# >= 2)) || usage
command=$1
dir=$2
shift 2
case $command in
  up) cmd_up "$@" ;;
  down)
    (($# == 0)) || usage
    dir=$(cd "$dir" 2>/dev/null && pwd || echo "$dir")
    cmd_down
    ;;
  stop | start | restart | kill)
    (($# == 1)) || usage
    dir=$(cd "$dir" 2>/dev/null && pwd) || die "$dir does not exist"
    cmd_one "$command" "$1"
    ;;
  *) usage ;;
esac
