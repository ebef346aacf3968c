#!/usr/bin/env bash
# Fleet mode on one machine (docs/fleet.md): Debian's nats-server with JetStream on a free
# loopback port, one publisher fed by the bundled example snapshot, three followers that hold no
# IAM credential and read only the NATS bucket. Shows a lookup on each follower, then a change at
# the source (the snapshot file edited, the publisher restarted on it) reaching all three, and
# cleans up (temp dir, every process it started), also on Ctrl-C or an error.
#   Usage: scripts/demo-fleet.sh [BUILD_DIR]      (about 10 s; needs scripts/install-deps.sh)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
policyd="$build/src/daemon/policyd"
policyctl="$build/src/cli/policyctl"
nats_server=${POLICYD_NATS_SERVER:-/usr/sbin/nats-server}
for bin in "$policyd" "$policyctl"; do
  [[ -x $bin ]] || { echo "demo-fleet: $bin is missing: build first (README, Quick start)" >&2; exit 1; }
done
[[ -x $nats_server ]] || { echo "demo-fleet: $nats_server is missing: run scripts/install-deps.sh" >&2; exit 1; }

work=$(mktemp -d /tmp/policyd-fleet-demo-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Polls "$@" (a command) every 0.1 s until it succeeds, for at most $1 tenths of a second.
wait_until() {
  local tries=$1
  shift
  for _ in $(seq "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "demo-fleet: gave up waiting for: $*" >&2
  for log in "$work"/*.log "$work"/nats/nats.log; do
    [[ -s $log ]] && { echo "--- ${log#"$work"/} (last lines)"; tail -n 5 "$log"; } >&2
  done
  return 1
}

# nats-server on a random free loopback port; it writes the port it chose into a ports file.
mkdir "$work/nats"
"$nats_server" -a 127.0.0.1 -p -1 -js -sd "$work/nats/jetstream" --ports_file_dir "$work/nats" \
  -l "$work/nats/nats.log" &
pids+=($!)
wait_until 100 compgen -G "$work/nats/*.ports"
url=$(sed -E 's/.*"(nats:\/\/[^"]+)".*/\1/' "$work"/nats/*.ports)
echo "nats-server (JetStream) on $url"

cp "$here/examples/snapshot.json" "$work/snapshot.json"
start_publisher() {
  "$policyd" --socket "$work/publisher.sock" --data-dir "$work/publisher" \
    --snapshot "$work/snapshot.json" --publish-to "$url" --publisher-id demo-publisher \
    2>>"$work/publisher.log" &
  publisher=$!
  pids+=("$publisher")
}
start_publisher
ctl() { "$policyctl" --socket "$work/$1.sock" "${@:2}"; }
# Followers wait for a bucket and retry with a growing backoff: start them once the publisher
# has created it and written to it (its status shows the revision of its last write).
publisher_wrote() { ctl publisher status | grep -Eq '^last write: +revision [1-9]'; }
wait_until 300 publisher_wrote
for i in 1 2 3; do
  "$policyd" --socket "$work/follower$i.sock" --data-dir "$work/follower$i" --follow "$url" \
    2>"$work/follower$i.log" &
  pids+=($!)
done

run() {
  echo "\$ policyctl --socket $1.sock ${*:2}"
  local rc=0
  ctl "$@" || rc=$?
  echo
  return $rc
}
# Every follower knows org 42 (strict lookup) once the publisher's writes have reached it.
for i in 1 2 3; do wait_until 300 ctl "follower$i" get --org 300000000000000042 --strict; done

run follower1 status
for i in 1 2 3; do run "follower$i" get --org 300000000000000042; done
echo "--- before the change: org 300000000000000107 inherits the instance default"
run follower1 get --org 300000000000000107

# The change at the source: org 107 gets its own policy (userLoginMustBeDomain), dated now, in
# the snapshot file; the publisher is restarted on it and writes the org's new value.
python3 - "$work/snapshot.json" <<'EOF'
import datetime, json, sys
path = sys.argv[1]
with open(path) as f:
    snapshot = json.load(f)
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
for org in snapshot["orgs"]:
    if org["id"] == "300000000000000107":
        org["policy"] = {"details": {"sequence": "1", "creationDate": now, "changeDate": now,
                                     "resourceOwner": org["id"]},
                         "userLoginMustBeDomain": True, "validateOrgDomains": True}
with open(path, "w") as f:
    json.dump(snapshot, f)
EOF
echo "--- the snapshot now gives org 300000000000000107 its own policy; restarting the publisher"
kill -TERM "$publisher"
wait "$publisher" || true
echo "--- the publisher is down; the followers answer from their own stores"
run follower3 get --org 300000000000000042
changed_at=$(date +%s%N)
start_publisher
own_policy() { ctl "$1" get --org 300000000000000107 | grep -q '"userLoginMustBeDomain":true'; }
for i in 1 2 3; do wait_until 300 own_policy "follower$i"; done
echo "--- all three followers answer the change $((($(date +%s%N) - changed_at) / 1000000)) ms after the publisher restarted"
for i in 1 2 3; do run "follower$i" get --org 300000000000000107; done
