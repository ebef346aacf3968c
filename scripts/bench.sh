#!/usr/bin/env bash
# The benchmark of issue 5, from a clean clone: installs what it needs (Debian packages), builds
# policyd and the benchmark in Release, runs bench/policyd_bench and writes docs/benchmarks.md.
#
#   scripts/bench.sh [BUILD_DIR] [policyd_bench flags...]     (BUILD_DIR default: build-bench)
#
# e.g. scripts/bench.sh build-bench --seconds 1 --rounds 1   for a quick look. About 15 minutes on
# 2 cores with the defaults (build included); the machine should be otherwise idle, since the
# client and the servers share its CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-bench
if [[ $# -gt 0 && $1 != --* ]]; then
  build=$1
  shift
fi

start=$(date +%s)
./scripts/install-deps.sh
# The RocksDB assertion cost is measured with callgrind and objdump, the profile with perf.
missing=()
command -v valgrind >/dev/null || missing+=(valgrind)
command -v perf >/dev/null || missing+=(linux-perf)
if ((${#missing[@]} > 0)); then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target policyd policyd_bench store_loop
built=$(date +%s)
echo "bench.sh: built in $((built - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"

"$build/bench/policyd_bench" --out docs/benchmarks.md "$@"
echo "bench.sh: done in $(($(date +%s) - start)) s (build $((built - start)) s)"
