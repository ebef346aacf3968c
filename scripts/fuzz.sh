#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang, ASan + UBSan) and runs each for SECONDS
# (default 30) on its checked-in seed corpus tests/fuzz/corpus/<target> (every seed, including
# the regression inputs of past crashes, runs first). New inputs go to a scratch copy; a crash,
# leak, timeout (>10 s per input) or out-of-memory (>2 GiB) fails the run, prints the report and
# keeps the input in BUILD/fuzz-crashes/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 3600 fuzz_config
#   scripts/fuzz.sh --seeds                   regenerate the generated seeds (make_seeds)
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (targets run at once, default 1;
# each target is one process).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$here/build-fuzz}
jobs=${FUZZ_JOBS:-1}
all_targets=(fuzz_request fuzz_json fuzz_store fuzz_upstream fuzz_config fuzz_fleet fuzz_webhook
  fuzz_connect fuzz_client)

seeds_only=0
seconds=30
if [[ ${1:-} == --seeds ]]; then
  seeds_only=1
  shift
elif [[ ${1:-} =~ ^[0-9]+$ ]]; then
  seconds=$1
  shift
fi
targets=("$@")
((${#targets[@]})) || targets=("${all_targets[@]}")

# Line tables only (-g1): a crash report's stack needs no more, and full -g costs build time.
CXX=clang++ cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -g1 -DNDEBUG" -DPOLICYD_FUZZ=ON -DPOLICYD_TESTS=OFF >/dev/null
if ((seeds_only)); then
  cmake --build "$build" -j2 --target make_seeds
  "$build/tests/fuzz/make_seeds" "$here/tests/fuzz/corpus"
  echo "fuzz: seeds written to tests/fuzz/corpus"
  exit 0
fi
cmake --build "$build" -j2 --target "${targets[@]}"

work=$(mktemp -d /tmp/policyd-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT

# Runs one target; its output goes to $work/<target>.log, its exit status to $work/<target>.rc.
run_target() {
  local target=$1 dict="$here/tests/fuzz/$1.dict"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -close_fd_mask=2 -artifact_prefix="$work/$target-")
  [[ -f $dict ]] && args+=(-dict="$dict")
  mkdir -p "$work/$target"
  cp "$here/tests/fuzz/corpus/$target"/* "$work/$target/"
  local rc=0
  "$build/tests/fuzz/$target" "${args[@]}" "$work/$target" >"$work/$target.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$target.rc"
}

echo "fuzz: ${targets[*]} for ${seconds}s each, $jobs at a time"
for target in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_target "$target" &
done
wait

failed=()
for target in "${targets[@]}"; do
  log="$work/$target.log"
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  corpus=$(find "$work/$target" -type f | wc -l)
  if [[ $(cat "$work/$target.rc") == 0 ]]; then
    echo "fuzz: $target: ${runs:-?} inputs in ${seconds}s, corpus $corpus, no crash"
    continue
  fi
  failed+=("$target")
  mkdir -p "$build/fuzz-crashes"
  cp "$work/$target"-* "$build/fuzz-crashes/" 2>/dev/null || true
  echo "fuzz: $target FAILED after ${runs:-?} inputs; its report:"
  grep -v -E '^#[0-9]+|^INFO:|^\s*$' "$log" | tail -60
  echo "fuzz: input kept in $build/fuzz-crashes/; reproduce: $build/tests/fuzz/$target FILE"
done
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: no crashes"
