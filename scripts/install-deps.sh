#!/usr/bin/env bash
# Installs everything policyd needs to build, test and benchmark: Debian packages, plus the npm
# packages of the Node client (clients/node, pinned by its package-lock.json).
# Idempotent: what is already present is left as it is. Needs root (or sudo).
set -euo pipefail

packages=(
  # lld: the linker the build takes when present (CMakeLists.txt, POLICYD_LLD).
  build-essential cmake ninja-build pkg-config ccache lld clang clang-format libclang-rt-14-dev
  librocksdb-dev rocksdb-tools libasio-dev
  libflatbuffers-dev flatbuffers-compiler flatbuffers-compiler-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libsimdjson-dev libsystemd-dev libexpected-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libssl-dev
  libcpp-httplib-dev nlohmann-json3-dev openssl libnats-dev nats-server libprotobuf-dev protobuf-compiler
  python3 python3-dev python3-flatbuffers python3-redis redis-server redis-tools hyperfine systemd curl nodejs
  tmux
  # The .deb and the man pages (tests/package, docs/packaging.md): cpack's dpkg-shlibdeps,
  # lintian, and groff/man to check the pages render without warnings.
  dpkg-dev lintian groff-base man-db
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  # Keep services (redis, nats-server) from starting inside the install; tests start their own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The Node client's npm packages (clients/node: flatbuffers, typescript; for its tests ZITADEL's
# TypeScript SDK @zitadel/client with @connectrpc/connect-node, docs/connect.md; ioredis for the
# benchmark's clients section), exactly as package-lock.json pins them, into
# clients/node/node_modules. Skipped while the lock file is the one last installed. A nodejs that
# bundles npm (NodeSource's) needs no Debian npm package, which would conflict with it.
if ! command -v npm >/dev/null; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends npm
fi
node_client=$(cd "$(dirname "$0")/../clients/node" && pwd)
lock_sum=$(sha256sum "$node_client/package-lock.json" | cut -d' ' -f1)
stamp=$node_client/node_modules/.policyd-lock-sha256
if [[ $(cat "$stamp" 2>/dev/null) != "$lock_sum" ]]; then
  echo "install-deps: npm ci in $node_client"
  (cd "$node_client" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" >"$stamp"
else
  echo "install-deps: $node_client/node_modules matches package-lock.json"
fi
