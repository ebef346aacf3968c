#!/usr/bin/env bash
# Runs policyd on the bundled example snapshot in a temporary directory, shows real lookups and
# checks through policyctl, and stops it. Usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
policyd="$build/src/daemon/policyd"
policyctl="$build/src/cli/policyctl"
work=$(mktemp -d /tmp/policyd-demo-XXXXXX)
sock="$work/policyd.sock"
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

"$policyd" --socket "$sock" --data-dir "$work/data" --snapshot "$here/examples/snapshot.json" &
pid=$!
for _ in $(seq 100); do
  "$policyctl" --socket "$sock" status >/dev/null 2>&1 && break
  sleep 0.1
done

run() {
  echo "\$ policyctl $*"
  local rc=0
  "$policyctl" --socket "$sock" "$@" || rc=$?
  echo
  return $rc
}
run status
run get                                   # the instance default
run get --org 300000000000000042          # an org with its own policy
run get --org 300000000000000107          # an org that inherits the default
run get --org no-such-org                 # unknown: falls back, like the upstream
run get --org no-such-org --strict || echo "(exit code $?: not found)"
# Checks: decisions under the effective policy and the org's synced domains (exit 1 = refused).
run check login-name 300000000000000042 alice@acme.com     # a verified domain of the org
run check login-name 300000000000000042 alice@acme.org || echo "(exit code $?: refused)"
run check login-name 300000000000000107 bob@acme.com || echo "(exit code $?: refused)"  # another org verified it
run check smtp-sender noreply@iam.example.com             # an instance domain
run check domain 300000000000000107 globex.com || echo "(exit code $?: refused)"
kill -TERM "$pid"
wait "$pid"
