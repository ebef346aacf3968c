#!/usr/bin/env bash
# Where policyd's, the echo server's and Redis's CPU time goes at 16 connections (perf), and what
# Debian's assertion-enabled RocksDB costs per lookup (callgrind), with the raw data kept:
#
#   scripts/profile-lookup.sh [BUILD_DIR] [OUT_DIR] [policyd_bench flags...]
#
# BUILD_DIR defaults to build-bench (configured Release like scripts/bench.sh), OUT_DIR to
# /tmp/policyd-profile. Writes OUT_DIR/profile.md (the same sections docs/benchmarks.md has),
# perf.data (all CPUs during the C=16 runs; perf.data.txt is `perf script` of it),
# syscalls-*.txt (perf trace -s per server) and store-loop-*.callgrind (RocksDB read, scan and
# write). Needs perf and valgrind (scripts/bench.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-bench}
out=${2:-/tmp/policyd-profile}
shift $(($# < 2 ? $# : 2))

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target policyd policyd_bench store_loop
mkdir -p "$out"
"$build/bench/policyd_bench" --sections profile,asserts --profile-dir "$out" \
  --out "$out/profile.md" "$@"

cat <<MSG
profile-lookup.sh: wrote $out/profile.md. Dig further with:
  perf report -i $out/perf.data --comm policyd --sort dso,sym        (or redis-server)
  callgrind_annotate $out/store-loop-read.callgrind | head -60       (or -scan, -write)
MSG
