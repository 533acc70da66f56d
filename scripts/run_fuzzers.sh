#!/usr/bin/env bash
# Runs each libFuzzer target of a NBAPROPS_FUZZ build for a bounded time, one at a time with one
# worker, and prints a summary (runtime, executions, coverage, result). Exit 1 when any target
# crashed, leaked, hung or ran out of memory; the input that did it is left under
# <build>/fuzz-work/<target>/ (crash-*, timeout-*, oom-*, leak-*): copy it to
# fuzz/regressions/<target>/ once the parser is fixed.
#   usage: scripts/run_fuzzers.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
# The checked-in seeds (fuzz/corpus/<target>) are only read; what the fuzzer adds to the corpus
# goes to <build>/fuzz-work/<target>/corpus and is reused by the next run.
set -uo pipefail

build=${1:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: $0 BUILD_DIR SECONDS [TARGET...]}
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for bin in "$build"/fuzz/*_fuzz; do
    [ -x "$bin" ] && targets+=("$(basename "$bin" _fuzz)")
  done
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets in $build/fuzz; build them first (make fuzz)" >&2
  exit 2
fi

summary=()
failed=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/${t}_fuzz"
  work="$build/fuzz-work/$t"
  mkdir -p "$work/corpus"
  inputs=("$work/corpus" "$root/fuzz/corpus/$t")
  [ -d "$root/fuzz/regressions/$t" ] && inputs+=("$root/fuzz/regressions/$t")
  opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/")
  [ -f "$root/fuzz/dicts/$t.dict" ] && opts+=(-dict="$root/fuzz/dicts/$t.dict")
  echo "== $t: fuzzing for ${seconds}s (log: $work/log)"
  start=$(date +%s)
  "$bin" "${opts[@]}" "${inputs[@]}" >"$work/log" 2>&1
  rc=$?
  elapsed=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | tail -1 | awk '{print $2}')
  cov=$(grep -oE '(DONE|pulse|NEW|REDUCE|INITED) +cov: [0-9]+ ft: [0-9]+' "$work/log" | tail -1 |
        awk '{print $3 "/" $5}')
  if [ $rc -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc): $(ls "$work" | grep -E '^(crash|timeout|oom|leak|slow-unit)-' | tr '\n' ' ')"
    grep -m1 -E 'ERROR: |runtime error|FUZZ_CHECK|terminate called|deadly signal' "$work/log" | sed 's/^/    /'
    failed=1
  fi
  summary+=("$(printf '%-14s %5ss  %10s execs  cov/ft %-12s %s' "$t" "$elapsed" "${execs:-?}" "${cov:-?}" "$result")")
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
exit $failed
