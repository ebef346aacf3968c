#!/usr/bin/env bash
# CI check of the systemd units in systemd/ (registered with ctest as SystemdUnitsVerifyAndScore).
#
#   scripts/check-units.sh BUILD_DIR | POLICYD_BINARY
#
# 1. `systemd-analyze verify --man=no` on copies of policyd.service and policyd.socket whose
#    ExecStart= points at the built policyd (verify fails on a missing binary). verify exits 0 on
#    unknown keys and unparsable values and only warns, so ANY output is a failure.
# 2. The sysusers.d file parses (systemd-sysusers into a scratch root).
# 3. `systemd-analyze security --offline=true --threshold=15`: overall exposure at most 1.5 (the
#    threshold is on a x10 scale).
# Works without systemd as PID 1 (all checks are offline). Exit 0 when everything passes, 1 on a
# failed check, 2 on bad usage.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
units="$here/systemd"
threshold=15
installed_binary=/usr/local/bin/policyd  # what ExecStart= names in systemd/policyd.service

if (($# != 1)); then
  echo "usage: $0 BUILD_DIR|POLICYD_BINARY" >&2
  exit 2
fi
binary="$1"
[[ -d "$binary" ]] && binary="$binary/src/daemon/policyd"
if [[ ! -x "$binary" ]]; then
  echo "check-units: FAIL: no policyd binary at $binary (build it first)" >&2
  exit 2
fi
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
for tool in systemd-analyze systemd-sysusers; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-units: FAIL: $tool not found (Debian package systemd; scripts/install-deps.sh)" >&2
    exit 1
  fi
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=0
fail() {
  echo "check-units: FAIL: $*"
  failed=1
}

# Copies named as the originals, so the socket finds its service and the report names the unit.
sed "s#^ExecStart=$installed_binary #ExecStart=$binary #" "$units/policyd.service" \
  >"$work/policyd.service"
cp "$units/policyd.socket" "$work/policyd.socket"
if ! grep -q "^ExecStart=$binary " "$work/policyd.service"; then
  fail "policyd.service: no 'ExecStart=$installed_binary ...' line to point at the build"
fi

echo "== systemd-analyze verify --man=no policyd.service policyd.socket"
verify_rc=0
verify_out="$(cd "$work" && systemd-analyze verify --man=no policyd.service policyd.socket 2>&1)" ||
  verify_rc=$?
if ((verify_rc != 0)) || [[ -n "$verify_out" ]]; then
  printf '%s\n' "$verify_out"
  fail "systemd-analyze verify: exit $verify_rc, $(printf '%s' "$verify_out" | grep -c '') lines of output (must be 0 and none)"
else
  echo "(no output)"
fi

echo "== systemd-sysusers policyd-sysusers.conf (scratch root)"
mkdir -p "$work/root/etc"
sysusers_rc=0
sysusers_out="$(systemd-sysusers --root="$work/root" "$units/policyd-sysusers.conf" 2>&1)" ||
  sysusers_rc=$?
printf '%s\n' "$sysusers_out"
if ((sysusers_rc != 0)) || ! grep -q '^policyd-clients:' "$work/root/etc/group" ||
  grep -qiE 'warn|fail|error|ignor' <<<"$sysusers_out"; then
  fail "policyd-sysusers.conf: exit $sysusers_rc, group policyd-clients not created cleanly"
fi

echo "== systemd-analyze security --offline=true --threshold=$threshold policyd.service"
security_rc=0
security_out="$(cd "$work" &&
  systemd-analyze security --offline=true --threshold="$threshold" --no-pager policyd.service 2>&1)" ||
  security_rc=$?
# The settings that cost points, then the verdict.
grep -E '^✗' <<<"$security_out" || true
exposure="$(grep -E 'Overall exposure level' <<<"$security_out" | sed 's/^→ //' || true)"
if [[ -z "$exposure" ]]; then
  printf '%s\n' "$security_out"
  fail "systemd-analyze security printed no exposure level (exit $security_rc)"
elif ((security_rc != 0)); then
  fail "$exposure: above the threshold of $threshold/10"
fi

# The fleet-mode drop-ins (systemd/policyd.service.d/): each with the unit, verify clean and the
# same exposure threshold.
for dropin in "$units"/policyd.service.d/*.conf; do
  name="$(basename "$dropin")"
  dir="$work/dropin-${name%.conf}"
  mkdir -p "$dir/policyd.service.d"
  cp "$work/policyd.service" "$work/policyd.socket" "$dir/"
  cp "$dropin" "$dir/policyd.service.d/"
  echo "== systemd-analyze verify + security, policyd.service with policyd.service.d/$name"
  dropin_rc=0
  dropin_out="$(cd "$dir" && systemd-analyze verify --man=no policyd.service policyd.socket 2>&1)" ||
    dropin_rc=$?
  if ((dropin_rc != 0)) || [[ -n "$dropin_out" ]]; then
    printf '%s\n' "$dropin_out"
    fail "policyd.service.d/$name: verify exit $dropin_rc, output above (must be 0 and none)"
  fi
  dropin_rc=0
  dropin_out="$(cd "$dir" && systemd-analyze security --offline=true --threshold="$threshold" \
    --no-pager policyd.service 2>&1)" || dropin_rc=$?
  level="$(grep -E 'Overall exposure level' <<<"$dropin_out" | sed 's/^→ //' || true)"
  echo "${level:-no exposure level}"
  if [[ -z "$level" ]] || ((dropin_rc != 0)); then
    fail "policyd.service.d/$name: ${level:-no exposure level} (threshold $threshold/10)"
  fi
done

if ((failed)); then
  echo "check-units: FAILED${exposure:+ ($exposure)}"
  exit 1
fi
echo "check-units: OK: verify clean, sysusers clean, $exposure (threshold $threshold/10)"
