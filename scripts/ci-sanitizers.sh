#!/usr/bin/env bash
# CI's sanitizer and fuzzing stages, run by .ci/run after the plain build and test run:
#   asan  the whole ctest suite built with ASan + UBSan (gcc, Debug)
#   tsan  the test binaries that run threads (store, upstream client, syncer, server/daemon
#         integration) plus policyd and policyctl, built with TSan (gcc, Debug)
#   fuzz  every libFuzzer target (clang) for FUZZ_SECONDS (default 25) on its checked-in corpus
# Each stage has its own build dir (build-ci-<stage> next to the sources), builds only what it
# runs with ccache (when installed) and -j2, and prints its timings. Any sanitizer report fails
# the stage, also one from a child process (policyd, policyctl) whose exit status the test did
# not check: reports go to files (log_path) that are printed and counted after the run.
#
#   scripts/ci-sanitizers.sh [asan] [tsan] [fuzz]      (default: all three, in that order)

# The stage_* functions are called as "stage_$stage", which shellcheck cannot follow.
# shellcheck disable=SC2317
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
stages=("$@")
((${#stages[@]})) || stages=(asan tsan fuzz)
fuzz_seconds=${FUZZ_SECONDS:-25}
# Debug (-O0), as docs/tests.md's sanitizer build: it compiles fastest, and gcc's flow-based
# warnings (-Werror) differ at each -O level, so no level that no other build uses. Line tables
# (-g1) are all a sanitizer report's stack needs; full -g costs compile and link time.
# The benchmark is not a test: not built here.
sanitizer_flags=(-G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DPOLICYD_BENCH=OFF)

# Test binaries whose tests run several threads (in the test or in the policyd they start):
# the store and its index under concurrent readers and writers, the upstream client against a
# threaded server, the syncer, sessions, and the daemon with concurrent clients, sync, signals,
# storms and storage faults, per-peer connection limits and checks, the webhook listener, and the
# NATS client (cnats's reader, flusher, timer and callback threads against the test's reader
# threads), and fleet mode: the publisher (its writer, watch and feed threads), the follower and
# the daemons of both, and the dump over the socket (its stream on the server's loop beside other
# clients' lookups, against a store the test writes meanwhile). Pure-logic binaries are left to
# the asan stage.
# Names that do not exist (yet) are skipped.
tsan_candidates=(store_test store_index_test upstream_test sync_test session_test daemon_test
  daemon_sync_test systemd_test abuse_test storage_fault_test request_metrics_test
  metrics_test top_test http_server_test http_compat_test nats_test peer_limits_test webhook_test
  webhook_daemon_test checks_test server_limits_test publish_test publish_unit_test follower_test
  fleet_daemon_test dump_test socket_dump_test)
# Tests of scale and endurance that add no thread interaction the others lack, and that TSan's
# slowdown stretches to minutes each (measured: 220 s, 116 s, 34 s of a 351-s stage): the 10,000-
# org cold start and the sync rate report (the syncer's threads are those of the shorter sync
# tests), the four storm rounds (the daemon's threads under concurrent clients: DaemonTest's
# hundred clients, and the other abuse tests). crash_test (SIGKILL at random) is not built:
# killing processes is about durability, which the asan stage and the plain run check.
# DumpTest's dumps during a writer thread's writes race only inside RocksDB (its memtable, which
# the writer fills and the dump's iterator reads, published by atomics TSan cannot see): TSan
# reports our decoder reading the memtable without the writer's stack ("failed to restore"), so
# tsan.supp's librocksdb entry cannot match; the dump's own threading (its stream on the server
# loop) is covered by DumpSessionTest and socket_dump_test, which stay.
tsan_skip='^DumpTest\.DumpsDuringWritesEachShowOneStateNeverAMixture$|^SyncTest\.ColdStartOfTenThousandOrgsDoesNotAskPerOrg$|^SyncTest\.ReportsHowManyEventsItAppliesPerSecond$|^AbuseTest\.StormsAreSurvivedAndLeaveNoDescriptorsOrMemoryBehind$'

# The man pages, completion and package (tests/package/): no threads, and their inputs (the man
# target) are not among the targets built here. The asan stage runs them (DebPackage skips
# itself in a sanitizer build: such binaries are not shipped).
package_tests='^ManPagesCoverEveryFlag$|^BashCompletionCoversEveryCommand$|^DebMaintainerScripts$|^DebPackage$'

summary=()
now() { date +%s; }

# Fails when the sanitizers wrote any report into $1, after printing them.
check_reports() {
  local dir=$1 stage=$2
  local files=("$dir"/*)
  [[ -e ${files[0]} ]] || return 0
  echo "ci-sanitizers: $stage: ${#files[@]} sanitizer report(s):"
  for f in "${files[@]}"; do
    echo "----- $f"
    head -120 "$f"
  done
  return 1
}

# Runs ctest in build dir $1 with the sanitizer reports of stage $2 collected; extra ctest args
# follow. TSan keeps the longest access history (history_size=7): a race report whose earlier
# access it could not restore ("failed to restore the stack") cannot show the librocksdb frame
# that tsan.supp matches, as once in publish_test (a memtable value written by RocksDB's writer
# and decoded by the publisher thread). (Functions called from `if` run without set -e: every step says `|| return 1`.)
run_ctest() {
  local build=$1 stage=$2
  shift 2
  local reports
  reports=$(mktemp -d "/tmp/policyd-$stage-reports-XXXXXX")
  local rc=0
  ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:suppressions=$here/tests/sanitizers/asan.supp" \
    UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1" \
    TSAN_OPTIONS="log_path=$reports/tsan:second_deadlock_stack=1:history_size=7" \
    ctest --test-dir "$build" --output-on-failure -j2 "$@" || rc=$?
  check_reports "$reports" "$stage" || rc=1
  rm -rf "$reports"
  return "$rc"
}

stage_asan() {
  local build="$here/build-ci-asan" t0 t1 t2
  t0=$(now)
  cmake -S "$here" -B "$build" "${sanitizer_flags[@]}" -DPOLICYD_SANITIZE=address,undefined \
    >/dev/null || return 1
  cmake --build "$build" -j2 || return 1
  t1=$(now)
  # CrashTest's SIGKILLs at random (50 in the plain run, 107 s under ASan) check durability,
  # which the plain run covers; here 15 kills check the same recovery paths for memory errors.
  POLICYD_CRASH_KILLS=15 run_ctest "$build" asan || return 1
  t2=$(now)
  summary+=("asan: build $((t1 - t0)) s, whole suite $((t2 - t1)) s")
}

stage_tsan() {
  local build="$here/build-ci-tsan" t0 t1 t2 targets=()
  t0=$(now)
  cmake -S "$here" -B "$build" "${sanitizer_flags[@]}" -DPOLICYD_SANITIZE=thread >/dev/null ||
    return 1
  for t in "${tsan_candidates[@]}"; do
    if ninja -C "$build" -t query "$t" >/dev/null 2>&1; then targets+=("$t"); fi
  done
  cmake --build "$build" -j2 --target policyd policyctl "${targets[@]}" || return 1
  t1=$(now)
  echo "ci-sanitizers: tsan: running ${targets[*]}"
  # Only the binaries built above: the others are registered as <name>_NOT_BUILT.
  run_ctest "$build" tsan -E "_NOT_BUILT\$|^ClangFormat\$|^SystemdUnitsVerifyAndScore\$|$package_tests|$tsan_skip" ||
    return 1
  t2=$(now)
  summary+=("tsan: build $((t1 - t0)) s, ${#targets[@]} test binaries $((t2 - t1)) s")
}

stage_fuzz() {
  local t0 t1
  t0=$(now)
  FUZZ_BUILD_DIR="$here/build-ci-fuzz" FUZZ_JOBS=2 "$here/scripts/fuzz.sh" "$fuzz_seconds" ||
    return 1
  t1=$(now)
  summary+=("fuzz: build and ${fuzz_seconds} s per target, 2 at a time: $((t1 - t0)) s")
}

status=0
for stage in "${stages[@]}"; do
  case $stage in
    asan | tsan | fuzz) ;;
    *)
      echo "usage: $0 [asan] [tsan] [fuzz]" >&2
      exit 2
      ;;
  esac
  echo "ci-sanitizers: === $stage"
  start=$(now)
  if ! "stage_$stage"; then
    summary+=("$stage: FAILED after $(($(now) - start)) s")
    status=1
  fi
done
echo "ci-sanitizers: timings"
printf '  %s\n' "${summary[@]}"
exit "$status"
