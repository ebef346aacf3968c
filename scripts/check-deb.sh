#!/usr/bin/env bash
# Builds the Debian package with cpack and checks it (registered with ctest as DebPackage).
#
#   scripts/check-deb.sh BUILD_DIR [--sanitized]
#
# 0. `cmake --install` (the build's prefix, /usr/local by default) writes a policyd.service
#    whose ExecStart= is the policyd it installed.
# 1. `cpack -G DEB` (BUILD_DIR's CPackConfig.cmake, into a scratch dir) makes exactly
#    policyd_<version>_amd64.deb, <version> being project(VERSION).
# 2. `dpkg-deb -c` lists exactly the files of tests/package/deb-contents.txt.
# 3. Depends: was computed: every library the binaries load (readelf NEEDED) belongs to a
#    package Depends: names, with "systemd | adduser" for the postinst; conffiles is
#    /etc/policyd/policyd.toml; the maintainer scripts are packaging/deb's, mode 0755; the
#    unit's ExecStart= names the packaged /usr/bin/policyd; the man pages are gzipped -9n.
# 4. dpkg --root into a scratch root (maintainer scripts chrootless, DPKG_ROOT set): install
#    creates the group (with systemd-sysusers), a reinstall keeps an edited conffile, remove
#    keeps it, purge removes it and the store.
# 5. `lintian --fail-on error,warning` passes (docs/packaging.md lists the info tags left).
# Exit 0 when all hold, 1 on a failed check, 77 (ctest: skipped) when a tool is missing or the
# build is sanitized (--sanitized: such binaries are not shipped), 2 on bad usage.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: check-deb.sh BUILD_DIR [--sanitized]}
build=$(cd "$build" && pwd)
if [[ ${2:-} == --sanitized ]]; then
  echo "check-deb: SKIP: a sanitizer or fuzzing build is not packaged (use a plain build)"
  exit 77
fi
for tool in cpack dpkg-deb dpkg-shlibdeps lintian readelf; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-deb: SKIP: $tool not found (scripts/install-deps.sh installs it)"
    exit 77
  fi
done

work=$(mktemp -d /tmp/policyd-check-deb-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
  echo "check-deb: FAIL: $*"
  failed=1
}

echo "== cmake --install (this build's prefix, component policyd): the unit names its binary"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
DESTDIR=$work/destdir cmake --install "$build" --component policyd >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "cmake --install failed"; }
unit=$work/destdir$prefix/lib/systemd/system/policyd.service
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit" 2>/dev/null || true)
[[ $exec_start == "$prefix/bin/policyd" && -x $work/destdir$exec_start ]] ||
  fail "cmake --install: ExecStart='$exec_start', expected the installed $prefix/bin/policyd"

version=$(sed -nE 's/^project\(policyd VERSION ([0-9.]+) .*/\1/p' "$root/CMakeLists.txt")
echo "== cpack -G DEB (version $version)"
(cd "$build" && cpack -G DEB -B "$work/out" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack failed"; exit 1; }
debs=$(cd "$work/out" && ls -- *.deb)
deb=$work/out/policyd_${version}_amd64.deb
[[ $debs == "policyd_${version}_amd64.deb" ]] || { fail "cpack made '$debs', not policyd_${version}_amd64.deb"; exit 1; }

echo "== dpkg-deb -c: the file list"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$work/contents"
if ! diff -u "$root/tests/package/deb-contents.txt" "$work/contents"; then
  fail "the package's files differ from tests/package/deb-contents.txt (diff above)"
fi

echo "== control: Depends, conffiles, maintainer scripts"
mkdir "$work/control" "$work/tree"
dpkg-deb -e "$deb" "$work/control"
dpkg-deb -x "$deb" "$work/tree"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
[[ $depends == "systemd | adduser, "* ]] || fail "Depends does not start with 'systemd | adduser'"
# The packages Depends: names (alternatives included), then the package of each NEEDED library
# (by its path as ldconfig knows it, else the path's target: /lib is /usr/lib on a merged /usr).
# A library's package may be named with a suffix in Depends (libspdlog1.10 -> libspdlog1.10-fmt9,
# the shlibs file's choice).
dep_names=$(awk -F '[,|]' '{ for (i = 1; i <= NF; i++) { split($i, w, " "); print w[1] } }' \
  <<<"$depends")
libraries=$(ldconfig -p)
for lib in $(readelf -d "$work/tree/usr/bin/policyd" "$work/tree/usr/bin/policyctl" |
  sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p' | sort -u); do
  path=$(awk -v l="$lib" '$1 == l && /x86-64/ && !found { print $NF; found = 1 }' <<<"$libraries")
  pkg=""
  if [[ -n $path ]]; then
    pkg=$( (dpkg -S "$path" || dpkg -S "$(realpath "$path")") 2>/dev/null | sed -n '1s/:.*//p')
  fi
  found=0
  while read -r name; do
    [[ -n $pkg && ($name == "$pkg" || $name == "$pkg"-*) ]] && found=1
  done <<<"$dep_names"
  ((found)) || fail "NEEDED $lib (package '${pkg:-?}') is not in Depends"
done
[[ $(cat "$work/control/conffiles") == /etc/policyd/policyd.toml ]] ||
  fail "conffiles: $(tr '\n' ' ' <"$work/control/conffiles")"
for script in postinst prerm postrm; do
  cmp -s "$work/control/$script" "$root/packaging/deb/$script" ||
    fail "$script differs from packaging/deb/$script"
  [[ $(stat -c %a "$work/control/$script") == 755 ]] || fail "$script is not mode 0755"
done
grep -qx 'ExecStart=/usr/bin/policyd --config /etc/policyd/policyd.toml' \
  "$work/tree/usr/lib/systemd/system/policyd.service" ||
  fail "policyd.service: $(grep ExecStart= "$work/tree/usr/lib/systemd/system/policyd.service")"
for page in man1/policyctl.1 man5/policyd.toml.5 man8/policyd.8; do
  cmp -s "$work/tree/usr/share/man/$page.gz" "$build/man/$(basename "$page").gz" ||
    fail "$page.gz is not the built page"
done
"$work/tree/usr/bin/policyd" --version | grep -qx "policyd $version" ||
  fail "the packaged policyd does not say version $version"

echo "== dpkg --root: install, reinstall over an edited conffile, remove, purge"
# A scratch dpkg root with an empty database; the maintainer scripts run on this machine with
# DPKG_ROOT set (--force-script-chrootless), which they honour: systemd-sysusers --root, no
# systemctl. The libraries Depends: names are not in that root (--force-depends).
r=$work/root
mkdir -p "$r/var/lib/dpkg/updates" "$r/var/lib/dpkg/info" "$r/etc"
touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/available"
dpkg_root() {
  dpkg --root="$r" --force-script-chrootless --force-depends --force-confdef --force-confold \
    --log=/dev/null "$@" </dev/null >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; return 1; }
}
status_of() { dpkg-query --admindir="$r/var/lib/dpkg" -W -f='${Status}' policyd 2>/dev/null || true; }
conf=$r/etc/policyd/policyd.toml
if dpkg_root -i "$deb"; then
  [[ $(status_of) == "install ok installed" ]] || fail "after dpkg -i: status '$(status_of)'"
  [[ -x $r/usr/bin/policyd && -f $conf ]] || fail "after dpkg -i: policyd or the config missing"
  if command -v systemd-sysusers >/dev/null; then
    grep -q '^policyd-clients:' "$r/etc/group" || fail "postinst did not create policyd-clients"
  fi
  echo '# edited by the operator' >>"$conf"
  dpkg_root -i "$deb" || fail "dpkg -i again failed"
  grep -q '^# edited by the operator' "$conf" || fail "reinstalling replaced the edited conffile"
  dpkg_root -r policyd || fail "dpkg -r failed"
  [[ $(status_of) == "deinstall ok config-files" ]] || fail "after dpkg -r: status '$(status_of)'"
  [[ ! -e $r/usr/bin/policyd && -f $conf ]] || fail "dpkg -r: binary left or config removed"
  mkdir -p "$r/var/lib/private/policyd"
  ln -s private/policyd "$r/var/lib/policyd"
  dpkg_root -P policyd || fail "dpkg -P failed"
  [[ -z $(status_of) || $(status_of) == "unknown ok not-installed" ]] ||
    fail "after dpkg -P: status '$(status_of)'"
  [[ ! -e $conf && ! -e $r/var/lib/private/policyd && ! -L $r/var/lib/policyd ]] ||
    fail "dpkg -P left the config or the store"
else
  fail "dpkg --root -i failed (log above)"
fi

echo "== lintian --fail-on error,warning"
lintian_rc=0
lintian --fail-on error,warning --display-info "$deb" >"$work/lintian.log" 2>&1 || lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.log" || true
((lintian_rc == 0)) || fail "lintian: exit $lintian_rc (errors or warnings above)"

if ((failed)); then exit 1; fi
echo "check-deb: OK: policyd_${version}_amd64.deb ($(stat -c %s "$deb") bytes), files as listed, lintian clean"
