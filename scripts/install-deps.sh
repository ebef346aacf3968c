#!/usr/bin/env bash
# Installs everything policyd needs to build, test and benchmark, from Debian packages only.
# Idempotent: packages already present are left as they are. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache clang clang-format libclang-rt-14-dev
  librocksdb-dev rocksdb-tools libasio-dev
  libflatbuffers-dev flatbuffers-compiler flatbuffers-compiler-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libsimdjson-dev libsystemd-dev libexpected-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libssl-dev
  libcpp-httplib-dev nlohmann-json3-dev openssl
  python3 python3-flatbuffers redis-server redis-tools hyperfine systemd curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
# Keep services (redis) from starting inside the install; tests start their own.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
