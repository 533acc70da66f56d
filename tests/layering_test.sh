#!/usr/bin/env bash
# Enforces the layering of docs/DESIGN (base <- store <- engine <- pipeline <- api <- cli):
# a layer may include only itself and layers below it, and only store/ may include sqlite3.h
# or libpq. Fails with the offending include.
set -u
root=${1:-.}
cd "$root" || exit 2
fail=0
check() {  # layer, forbidden include pattern, why
  local layer=$1 pattern=$2 why=$3
  local hits
  hits=$(grep -rnE "^#include [<\"]($pattern)" "$layer" --include='*.h' --include='*.cc' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation ($why):"
    echo "$hits"
    fail=1
  fi
}
check base   'store/|engine/|pipeline/|api/|cli/' 'base depends on nothing'
check store  'engine/|pipeline/|api/|cli/'        'store depends only on base'
check engine 'pipeline/|api/|cli/|sqlite3.h|libpq' 'engine knows nothing of basketball or backends'
check pipeline 'api/|cli/|sqlite3.h|libpq|store/sqlite/' 'pipeline goes through store/, never a backend'
check api    'cli/|sqlite3.h|libpq|store/sqlite/'  'api sits below cli'
check cli    'sqlite3.h|libpq|store/sqlite/'        'cli goes through store/'
# engine/ must not mention basketball words in code.
if grep -rniE '\b(player|nba|points|sportsbook|box.?score)\b' engine --include='*.h' --include='*.cc' | grep -v '^\s*//' | grep -vq '^$'; then
  echo "engine/ mentions the basketball domain:"
  grep -rniE '\b(player|nba|points|sportsbook|box.?score)\b' engine --include='*.h' --include='*.cc'
  fail=1
fi
[ $fail -eq 0 ] && echo "layering ok"
exit $fail
