#!/usr/bin/env bash
# Regenerates the FlatBuffers code of the Python and Node clients from schemas/ with flatc, into
# the directories that are checked in:
#   clients/python/policyd_client/fb/   flatc --python (one self-contained module per root schema)
#   clients/node/src/generated/         flatc --ts
# After a schema change: run this, then add one method per client for a new request kind.
#
#   scripts/gen-clients.sh           regenerate in place
#   scripts/gen-clients.sh --check   regenerate into a temp dir and fail (exit 1, with the diff)
#                                    when the checked-in code differs; run by ctest
#
# FLATC selects the compiler (default: flatc on PATH). Use Debian's flatc 2.0.8, the version of
# python3-flatbuffers; the npm flatbuffers runtime is 2.0.7 (npm has no 2.0.8).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flatc=${FLATC:-flatc}
py_out=clients/python/policyd_client/fb
ts_out=clients/node/src/generated

# Writes the generated trees under $1 (an empty directory).
generate() {
  local out=$1
  mkdir -p "$out/$py_out" "$out/$ts_out"
  # --gen-onefile --gen-all: request_generated.py and response_generated.py each hold every type
  # they use (common.fbs included), with no imports of a top-level "policyd" package, so the
  # modules live inside policyd_client. The default layout would import policyd.fb.X absolutely.
  "$flatc" --python --gen-onefile --gen-all -o "$out/$py_out" \
    "$root/schemas/request.fbs" "$root/schemas/response.fbs"
  "$flatc" --ts -o "$out/$ts_out" \
    "$root/schemas/common.fbs" "$root/schemas/request.fbs" "$root/schemas/response.fbs"
}

tmp=$(mktemp -d /tmp/policyd-gen-clients-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
generate "$tmp"

if [[ ${1:-} == --check ]]; then
  status=0
  for dir in "$py_out" "$ts_out"; do
    # __pycache__ is what running the client leaves behind; it is not generated code.
    if ! diff -ru --exclude=__pycache__ "$root/$dir" "$tmp/$dir"; then
      status=1
    fi
  done
  if ((status != 0)); then
    echo "gen-clients: the generated client code is out of date with schemas/;" \
      "run scripts/gen-clients.sh" >&2
    exit 1
  fi
  echo "gen-clients: generated client code matches schemas/ ($("$flatc" --version))"
  exit 0
elif [[ $# -gt 0 ]]; then
  echo "usage: scripts/gen-clients.sh [--check]" >&2
  exit 2
fi

for dir in "$py_out" "$ts_out"; do
  # Replace the whole tree, so a type removed from the schemas leaves no file behind.
  rm -rf "${root:?}/$dir"
  mkdir -p "$(dirname "$root/$dir")"
  cp -r "$tmp/$dir" "$root/$dir"
done
echo "gen-clients: wrote $py_out and $ts_out ($("$flatc" --version))"
