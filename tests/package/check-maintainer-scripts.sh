#!/usr/bin/env bash
# ctest DebMaintainerScripts: runs packaging/deb/{postinst,prerm,postrm} for every dpkg action,
# without dpkg and without touching this machine: each runs under /bin/sh with a PATH holding
# only logging stand-ins (systemd-sysusers, systemctl, deb-systemd-invoke, addgroup, getent) and
# rm, with /run/systemd/system rewritten to a scratch directory that exists ("systemd running")
# or not, and with DPKG_ROOT a scratch root for purge.
#
#   tests/package/check-maintainer-scripts.sh
#
# Checks: each script parses (sh -n, and shellcheck when installed) and exits 0 for every
# action; configure creates the group (systemd-sysusers policyd.conf, else addgroup --system
# unless getent finds it) and reloads systemd only when it runs; no script ever enables, starts
# or restarts a unit; prerm stops the units on remove only; postrm purge removes the enablement
# links and the store, and nothing else. Not covered: the real dpkg, systemd and adduser (the
# stand-ins only record their arguments). Exit 0 when all hold, 1 with one line per failure.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scripts=$root/packaging/deb
work=$(mktemp -d /tmp/policyd-maint-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
  echo "check-maintainer-scripts: FAIL: $*"
  failed=1
}

for s in postinst prerm postrm; do
  sh -n "$scripts/$s" || fail "$s: sh -n"
  if command -v shellcheck >/dev/null; then
    shellcheck -s sh "$scripts/$s" || fail "$s: shellcheck"
  fi
done

# Stand-ins that append "name args" to $LOG; getent finds the group when GROUP_EXISTS=1.
mkdir -p "$work/bin"
# shellcheck disable=SC2016 # $* and $LOG expand when the stand-in runs
for tool in systemd-sysusers systemctl deb-systemd-invoke addgroup adduser; do
  printf '#!/bin/sh\necho "%s $*" >>"$LOG"\n' "$tool" >"$work/bin/$tool"
done
# shellcheck disable=SC2016
printf '#!/bin/sh\necho "getent $*" >>"$LOG"\n[ "$GROUP_EXISTS" = 1 ] || exit 2\necho "$2:x:999:"\n' \
  >"$work/bin/getent"
chmod +x "$work/bin"/*
ln -s "$(command -v rm)" "$work/bin/rm"

# run SCRIPT SYSTEMD(running|stopped) SYSUSERS(yes|no) ARGS...: runs it, prints its log.
run() {
  local script=$1 systemd=$2 sysusers=$3
  shift 3
  local case_dir
  case_dir=$(mktemp -d "$work/case-XXXXXX")
  mkdir -p "$case_dir/bin"
  cp -P "$work/bin"/* "$case_dir/bin/"
  [[ $sysusers == yes ]] || rm "$case_dir/bin/systemd-sysusers"
  [[ $systemd == stopped ]] || mkdir -p "$case_dir/run/systemd/system"
  sed "s#/run/systemd/system#$case_dir/run/systemd/system#g" "$scripts/$script" >"$case_dir/$script"
  : >"$case_dir/log"
  local rc=0
  env -i PATH="$case_dir/bin" LOG="$case_dir/log" GROUP_EXISTS="${GROUP_EXISTS:-0}" \
    ${DPKG_ROOT:+DPKG_ROOT="$DPKG_ROOT"} /bin/sh "$case_dir/$script" "$@" >/dev/null 2>&1 || rc=$?
  ((rc == 0)) || fail "$script $* (systemd $systemd, sysusers $sysusers): exit $rc"
  cat "$case_dir/log"
}

expect() {  # WHAT EXPECTED ACTUAL: the logs match exactly
  [[ $2 == "$3" ]] || fail "$1: expected [${2//$'\n'/; }], got [${3//$'\n'/; }]"
}

# postinst
expect "postinst configure, systemd running" \
  $'systemd-sysusers policyd.conf\nsystemctl --system daemon-reload' \
  "$(run postinst running yes configure)"
expect "postinst configure (upgrade from 0.0.9), systemd running" \
  $'systemd-sysusers policyd.conf\nsystemctl --system daemon-reload' \
  "$(run postinst running yes configure 0.0.9)"
expect "postinst configure, no systemd running" "systemd-sysusers policyd.conf" \
  "$(run postinst stopped yes configure)"
expect "postinst configure, no systemd-sysusers, no group" \
  $'getent group policyd-clients\naddgroup --system --quiet policyd-clients' \
  "$(run postinst stopped no configure)"
expect "postinst configure, no systemd-sysusers, group exists" "getent group policyd-clients" \
  "$(GROUP_EXISTS=1 run postinst stopped no configure)"
expect "postinst configure into DPKG_ROOT" "systemd-sysusers --root=$work/root policyd.conf" \
  "$(DPKG_ROOT=$work/root run postinst running yes configure)"
expect "postinst configure into DPKG_ROOT, no systemd-sysusers (the host's groups stay)" "" \
  "$(DPKG_ROOT=$work/root run postinst running no configure)"
for action in abort-upgrade abort-remove abort-deconfigure triggered; do
  expect "postinst $action" "" "$(run postinst running yes "$action")"
done

# prerm
expect "prerm remove, systemd running" "deb-systemd-invoke stop policyd.service policyd.socket" \
  "$(run prerm running yes remove)"
expect "prerm remove, no systemd running" "" "$(run prerm stopped yes remove)"
for action in upgrade deconfigure failed-upgrade; do
  expect "prerm $action" "" "$(run prerm running yes "$action" 0.1.0)"
done

# postrm
expect "postrm remove, systemd running" "systemctl --system daemon-reload" \
  "$(run postrm running yes remove)"
expect "postrm remove, no systemd running" "" "$(run postrm stopped yes remove)"
for action in upgrade failed-upgrade abort-install abort-upgrade disappear; do
  expect "postrm $action" "" "$(run postrm running yes "$action")"
done
# purge, into a scratch root holding what an installed, enabled and used policyd leaves.
purge_root=$work/purge
mkdir -p "$purge_root/etc/systemd/system/sockets.target.wants" \
  "$purge_root/etc/systemd/system/multi-user.target.wants" \
  "$purge_root/etc/systemd/system/policyd.service.d" "$purge_root/var/lib/private/policyd" \
  "$purge_root/etc/policyd"
ln -s /usr/lib/systemd/system/policyd.socket \
  "$purge_root/etc/systemd/system/sockets.target.wants/policyd.socket"
ln -s /usr/lib/systemd/system/policyd.service \
  "$purge_root/etc/systemd/system/multi-user.target.wants/policyd.service"
ln -s /usr/lib/systemd/system/other.service \
  "$purge_root/etc/systemd/system/multi-user.target.wants/other.service"
ln -s private/policyd "$purge_root/var/lib/policyd"
echo x >"$purge_root/var/lib/private/policyd/CURRENT"
echo x >"$purge_root/etc/systemd/system/policyd.service.d/site.conf"
echo x >"$purge_root/etc/policyd/zitadel-token"
expect "postrm purge into DPKG_ROOT" "" "$(DPKG_ROOT=$purge_root run postrm running yes purge)"
left=$(cd "$purge_root" && find . \( -type f -o -type l \) | sort | tr '\n' ' ')
expect "files left after purge" \
  "./etc/policyd/zitadel-token ./etc/systemd/system/multi-user.target.wants/other.service ./etc/systemd/system/policyd.service.d/site.conf " \
  "$left"

# Never enable, start or restart anything, whatever the action (comments aside).
for s in postinst prerm postrm; do
  if sed '/^[[:space:]]*#/d' "$scripts/$s" |
    grep -nE '(systemctl|deb-systemd-invoke|deb-systemd-helper)[^#]*\b(enable|start|restart|try-restart|reload-or-restart)\b'; then
    fail "$s enables or starts a unit (above)"
  fi
done

if ((failed)); then exit 1; fi
echo "check-maintainer-scripts: OK: postinst, prerm and postrm for every action"
