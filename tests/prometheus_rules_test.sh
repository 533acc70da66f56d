#!/usr/bin/env bash
# promtool over the alert rules: syntax and templates (check rules), then the unit tests (a series
# that fires each rule and one that does not). Exits 77 (ctest: skipped) without promtool.
set -euo pipefail
dir="$1/deploy/prometheus"
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool is not installed; as root: apt-get install -y prometheus"
  exit 77
fi
promtool check rules "$dir/nbaprops-rules.yml"
cd "$dir" && promtool test rules nbaprops-rules.test.yml
