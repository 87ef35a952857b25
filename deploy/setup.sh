#!/usr/bin/env bash
# Installs every Debian and npm package the project needs. Idempotent and quick when
# nothing is missing: `apt-get update` runs once, and only when a package is missing;
# `npm ci` runs only when deploy/package-lock.json changed since the last install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

debs=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev libpaho-mqttpp-dev libpaho-mqtt-dev libpqxx-dev libsecp256k1-dev libqrencode-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # the fuzz targets (tests/fuzz): libFuzzer, ASan and UBSan; clang 16 is the first to build
  # C++23 <expected> of g++ 12's libstdc++ (Debian 12's default clang is 14)
  clang-16 libclang-rt-16-dev
  # servers the stack and the tests start on loopback
  postgresql postgresql-contrib mosquitto mosquitto-clients
  # tools the tests and the demo use
  curl jq procps iproute2 zbar-tools qrencode libxml2-utils openssl ca-certificates
  # the consumer page's browser tests (driven by playwright-core from deploy/package.json)
  chromium
  # benchmarks (bench/*.sh): load generator and the static-file baseline
  wrk nginx
)

# Node.js only when there is none: a machine may carry another packaging of it
# (with npm inside), which Debian's npm package would conflict with.
command -v npm >/dev/null 2>&1 || debs+=(nodejs npm)

missing=()
for p in "${debs[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's packages start their servers where an init system runs; the project
  # starts its own on free loopback ports, so stop the system ones if they came up.
  if command -v service >/dev/null 2>&1; then
    $SUDO service mosquitto stop >/dev/null 2>&1 || true
    $SUDO service nginx stop >/dev/null 2>&1 || true
  fi
fi

# npm packages (anvil, solc, and the browser-test tooling) pinned by the lock file.
stamp="$here/node_modules/.trace-lock-sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: npm ci in deploy/" >&2
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" >"$stamp"
fi
