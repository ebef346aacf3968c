#!/usr/bin/env bash
# ctest BashCompletionCoversEveryCommand: the bash completion scripts/gen-man.py built
# (BUILD_DIR/man/policyctl.bash-completion, installed as
# /usr/share/bash-completion/completions/policyctl) offers what `policyctl --help` lists.
#
#   tests/package/check-completion.sh BUILD_DIR
#
# For every command path of policyctl (read from --help directly): completing an empty word
# offers each of its subcommands, completing "-" each of its flags, and an option's value is
# skipped (`policyctl --socket X <TAB>` offers the top-level subcommands). `get --kind <TAB>`
# offers every kind the --kind help names. Exit 0 when all hold, 1 with one line per failure.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check-completion.sh BUILD_DIR}
# shellcheck source=tests/package/help-flags.sh
. "$here/help-flags.sh"
policyctl=$build/src/cli/policyctl
completion=$build/man/policyctl.bash-completion
[[ -s $completion ]] || {
  echo "check-completion: FAIL: $completion missing (build the target man)"
  exit 1
}
complete() { :; }  # the script registers itself with `complete`; not needed here
# shellcheck source=/dev/null
. "$completion"
failed=0
fail() {
  echo "check-completion: FAIL: $*"
  failed=1
}

# Completes the words "$@" (the last is the one under the cursor) and prints the candidates.
candidates() {
  COMP_WORDS=(policyctl "$@")
  COMP_CWORD=$#
  COMPREPLY=()
  _policyctl
  printf '%s\n' "${COMPREPLY[@]}"
}

expect_all() {  # WHAT EXPECTED... -- WORDS...: every EXPECTED is among the candidates
  local what=$1 got
  shift
  local expected=()
  while [[ $1 != -- ]]; do
    expected+=("$1")
    shift
  done
  shift
  got=$(candidates "$@")
  for e in "${expected[@]}"; do
    grep -qxF -- "$e" <<<"$got" || fail "$what: 'policyctl $*' does not offer $e"
  done
}

paths=0
while IFS= read -r path; do
  paths=$((paths + 1))
  # shellcheck disable=SC2086
  subs=$(help_subcommands "$policyctl" $path)
  # shellcheck disable=SC2086
  flags=$(help_flags "$policyctl" $path)
  # shellcheck disable=SC2086
  [[ -z $subs ]] || expect_all "subcommands of '$path'" $subs -- $path ""
  # shellcheck disable=SC2086
  expect_all "flags of '$path'" $flags -- $path -
done < <(help_paths "$policyctl")
((paths >= 9)) || fail "only $paths command paths in policyctl --help"

# shellcheck disable=SC2046
expect_all "subcommands after an option's value" $(help_subcommands "$policyctl") -- \
  --socket /run/policyd/policyd.sock ""
kinds=$("$policyctl" get --help | sed -nE 's/.*--kind .*one of (.*)$/\1/p' | tr -d ',')
[[ -n $kinds ]] || fail "policyctl get --help names no kinds"
# shellcheck disable=SC2086
expect_all "values of get --kind" $kinds -- get --kind ""
if [[ -n $(candidates get --kind password-c) ]] &&
  [[ $(candidates get --kind password-c) != password-complexity ]]; then
  fail "'get --kind password-c' offers $(candidates get --kind password-c | tr '\n' ' ')"
fi
if [[ -n $(candidates status --json "") ]]; then
  fail "'status --json <TAB>' offers $(candidates status --json "" | tr '\n' ' ') (status takes no subcommand)"
fi

if ((failed)); then exit 1; fi
echo "check-completion: OK: $paths command paths, their subcommands and flags, and get --kind values"
