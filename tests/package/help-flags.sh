# shellcheck shell=bash
# Sourced by the man page and completion tests: reads the CLIs' --help directly (not through
# scripts/gen-man.py, whose output these tests check).
#
#   help_paths BIN              every command path of BIN, one per line ("" first, "check password")
#   help_flags BIN PATH...      the flags --help lists for that command ("-o", "--output", ...)
#   help_subcommands BIN PATH...  the subcommands --help lists for that command
#   help_positionals BIN PATH...  the positional arguments' names ("org", "name")

help_section() {  # BIN SECTION PATH...: the lines of one section of --help
  local bin=$1 section=$2
  shift 2
  # (awk reads to the end: an early exit could kill the binary with SIGPIPE under pipefail.)
  "$bin" "$@" --help | awk -v s="$section:" '
    $0 == s && !done { on = 1; next }
    on && /^$/ { on = 0; done = 1 }
    on && /^  [^ ]/ { print }'
}

help_flags() {
  local bin=$1
  shift
  help_section "$bin" Options "$@" | awk '{ print $1 }' | tr ',' '\n'
}

help_subcommands() {
  local bin=$1
  shift
  help_section "$bin" Subcommands "$@" | awk '{ print $1 }'
}

help_positionals() {
  local bin=$1
  shift
  help_section "$bin" Positionals "$@" | awk '{ print $1 }'
}

help_paths() {
  local bin=$1
  shift
  local sub
  echo "$*"
  for sub in $(help_subcommands "$bin" "$@"); do
    help_paths "$bin" "$@" "$sub"
  done
}
