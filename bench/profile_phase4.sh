#!/usr/bin/env bash
# Where phase 4 spends its time: perf samples of BM_Phase4WholeSeason (bench/model_bench.cc; its
# setup, phase 3 + phase 4 once over the bundled season, is sampled too) and the share of the
# samples (inclusive) under each processor, the SQLite reads and writes, and the run bookkeeping.
#
# Usage: bench/profile_phase4.sh [perf.data]      needs perf (Debian: apt-get install linux-perf)
#   and build/bench/model_bench (make build). The perf.data file is kept for `perf report -i`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-$(mktemp "${TMPDIR:-/tmp}/phase4-perf.XXXXXX")}
command -v perf >/dev/null || { echo "error: perf not found; install it: apt-get install linux-perf" >&2; exit 1; }
[[ -x build/bench/model_bench ]] || { echo "error: build/bench/model_bench missing; run make build" >&2; exit 1; }
perf record -q -F 250 --call-graph dwarf,8192 -o "$OUT" build/bench/model_bench \
  --benchmark_filter=Phase4WholeSeason 2>&1 | grep -E "BM_|setup" || true
echo "== inclusive share of samples ($OUT)"
perf report -i "$OUT" --children --sort symbol -g none 2>/dev/null | grep -v '^#' | sed -E 's/ +/ /g' |
  awk '{sym=$4; for (i=5;i<=NF;i++) if ($i != "-") sym=sym" "$i; else break; print $1 "\t" sym}' |
  grep -E "Processor::Compute -?$|::Compute$|SeasonGamesBefore|ExpectedPlayers|ReadKeyed|PrecomputeProcessor::Replace$|CommitOutput$|SqliteTransaction::Query$|SqliteTransaction::Commit$|sqlite3_step$|Ledger::|RunClaimed$|_int_malloc$|fdatasync" |
  grep -vE "__invoke|_Function_handler" | awk -F"\t" '!seen[$2]++' | head -30
