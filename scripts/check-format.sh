#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (with the repo's .clang-format)
# would write. Fix with: git ls-files '*.h' '*.cc' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(git ls-files '*.h' '*.cc' 2>/dev/null || find src tests bench -name '*.h' -o -name '*.cc')
if clang-format --dry-run --Werror $files; then
  echo "check-format: $(echo "$files" | wc -w) files formatted"
else
  echo "check-format: run clang-format -i on the files above" >&2
  exit 1
fi
