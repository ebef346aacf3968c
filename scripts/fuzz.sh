#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS (default 30)
# on its checked-in seed corpus in tests/fuzz/corpus/<target>. New inputs go to a scratch copy;
# a crash leaves crash-* files and fails. Run longer: scripts/fuzz.sh 3600
set -euo pipefail
seconds=${1:-30}
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build-fuzz"
CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPOLICYD_FUZZ=ON -DPOLICYD_TESTS=OFF >/dev/null
cmake --build "$build" --target fuzz_request fuzz_json fuzz_store make_seeds
work=$(mktemp -d /tmp/policyd-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
for target in fuzz_request fuzz_json fuzz_store; do
  mkdir -p "$work/$target"
  cp "$here/tests/fuzz/corpus/$target"/* "$work/$target/" 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  (cd "$work" && "$build/tests/fuzz/$target" -max_total_time="$seconds" -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 "$work/$target" 2>&1 | tail -4)
done
echo "fuzz: no crashes"
