#!/usr/bin/env bash
# ctest ManPagesCoverEveryFlag: the man pages built by scripts/gen-man.py (BUILD_DIR/man/) agree
# with the binaries and render cleanly.
#
#   tests/package/check-man.sh BUILD_DIR
#
# 1. Every flag of `policyd --help` is in policyd(8); every flag and positional of policyctl and
#    of each of its subcommands' --help is in policyctl(1), and each subcommand has a section.
# 2. Every policyd flag but --help, --version and --config is a key of policyd.toml(5), and
#    every key examples/policyd.toml sets or shows commented out is a policyd flag.
# 3. Every --flag the rendered pages mention (prose included) is a flag of policyd or policyctl.
# 4. groff -man -ww and `man --warnings` (what lintian runs) print nothing; the .gz files are
#    the pages.
# Exit 0 when all hold, 1 with one line per failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: check-man.sh BUILD_DIR}
# shellcheck source=tests/package/help-flags.sh
. "$here/help-flags.sh"
policyd=$build/src/daemon/policyd
policyctl=$build/src/cli/policyctl
man=$build/man
failed=0
fail() {
  echo "check-man: FAIL: $*"
  failed=1
}

# A page as plain text: no hyphenation, no adjusting, one long line per paragraph, so a flag
# is never split.
render() {
  groff -man -Tascii -P-cbou -rLL=500n -rHY=0 "$1" 2>/dev/null | sed 's/‐/-/g'
}
declare -A text
for page in policyd.8 policyctl.1 policyd.toml.5; do
  [[ -s $man/$page ]] || {
    echo "check-man: FAIL: $man/$page missing (build the target man)"
    exit 1
  }
  text[$page]=$(render "$man/$page")
done
has_word() {  # PAGE WORD: WORD (letters, digits, dashes) appears delimited by other characters
  grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|$)" <<<"${text[$1]}"
}

daemon_flags=$(help_flags "$policyd")
for flag in $daemon_flags; do
  has_word policyd.8 "$flag" || fail "policyd.8 lacks $flag"
done
all_flags=$daemon_flags
while IFS= read -r path; do
  # shellcheck disable=SC2086
  for flag in $(help_flags "$policyctl" $path); do
    all_flags+=$'\n'$flag
    has_word policyctl.1 "$flag" || fail "policyctl.1 lacks $flag (policyctl $path)"
  done
  # shellcheck disable=SC2086
  for arg in $(help_positionals "$policyctl" $path); do
    has_word policyctl.1 "${arg^^}" || fail "policyctl.1 lacks ${arg^^} (policyctl $path)"
  done
  # shellcheck disable=SC2086
  if [[ -n $path ]] && [[ -z $(help_subcommands "$policyctl" $path) ]] &&
    ! grep -qxF "   $path" <<<"${text[policyctl.1]}"; then
    fail "policyctl.1 has no section for '$path'"
  fi
done < <(help_paths "$policyctl")

keys=$(sed -nE 's/^ {7}([a-z][a-z0-9-]*) = .*/\1/p' <<<"${text[policyd.toml.5]}")
for flag in $daemon_flags; do
  case $flag in -h | --help | --version | --config) continue ;; esac
  grep -qxF -- "${flag#--}" <<<"$keys" || fail "policyd.toml.5 has no key ${flag#--}"
done
while read -r key; do
  grep -qxF -- "--$key" <<<"$daemon_flags" || fail "examples/policyd.toml key $key is no policyd flag"
  grep -qxF -- "$key" <<<"$keys" || fail "policyd.toml.5 lacks examples/policyd.toml's key $key"
done < <(sed -nE 's/^#? ?([a-z][a-z0-9-]*) = .*/\1/p' "$root/examples/policyd.toml")
[[ -n $keys ]] || fail "policyd.toml.5: no keys found"

for page in "${!text[@]}"; do
  while read -r flag; do
    grep -qxF -- "$flag" <<<"$all_flags" || fail "$page mentions $flag, which no binary takes"
  done < <(grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' <<<"${text[$page]}" |
    sed -E 's/^[^-]+//' | sort -u)
  out=$(groff -man -ww -z "$man/$page" 2>&1)
  [[ -z $out ]] || fail "groff -man -ww $page: $out"
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$man/$page" 2>&1 >/dev/null)
  [[ -z $out ]] || fail "man --warnings $page: $out"
  cmp -s <(gzip -dc "$man/$page.gz") "$man/$page" || fail "$page.gz is not $page"
done

if ((failed)); then exit 1; fi
echo "check-man: OK: policyd.8, policyctl.1 and policyd.toml.5 name every flag, key and subcommand"
