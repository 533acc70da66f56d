#!/usr/bin/env bash
# Peer benchmark for the player_daily_cache processor: the same rolling points statistics as one
# DuckDB window query (bench/duckdb_daily_cache.mjs), next to our processor's timings from a demo run.
#
# Usage: bench/daily_cache_peer.sh [box_scores.csv]     (from any directory)
#   The CSV defaults to the bundled season, data/2023-24/box_scores.csv. Our side always runs
#   `nbaprops demo` on the bundled season, so pass another CSV only for DuckDB figures.
# Needs node + npm (installs @duckdb/node-api into bench/.duckdb-peer/ on first use) and, for our
# side, build/nbaprops (`make build`) and the sqlite3 shell.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$(pwd)
PREFIX=bench/.duckdb-peer
CSV=${1:-data/2023-24/box_scores.csv}
if [[ "$CSV" != /* ]]; then
  if [[ $# -ge 1 ]]; then CSV="$OLDPWD/$CSV"; else CSV="$REPO_ROOT/$CSV"; fi  # a given path is the caller's
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (Node 20 + npm are needed)" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/daily-cache-peer.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# --- DuckDB side ----------------------------------------------------------------------------------
# Loading the package (native binding included) is the check, so a half-finished install is redone.
if node -e "require(require('path').resolve(process.argv[1], 'node_modules/@duckdb/node-api'))" "$PREFIX" \
     >/dev/null 2>&1; then
  echo "== @duckdb/node-api already installed in $PREFIX/ ($(node -p \
    "require(require('path').resolve(process.argv[1], 'node_modules/@duckdb/node-api/package.json')).version" \
    "$PREFIX"))"
else
  echo "== installing @duckdb/node-api into $PREFIX/"
  echo "+ npm install --prefix $PREFIX --no-audit --no-fund @duckdb/node-api"
  npm install --prefix "$PREFIX" --no-audit --no-fund @duckdb/node-api
fi

echo
echo "== DuckDB: rolling points stats for every player-game, one window query"
# The .mjs loads the package from the prefix itself (createRequire anchored there), so no NODE_PATH.
DUCKDB_PEER_PREFIX="$REPO_ROOT/$PREFIX" DUCKDB_PEER_OUT="$TMP/duckdb_rows.csv" \
  node bench/duckdb_daily_cache.mjs "$CSV" | tee "$TMP/duckdb.out"
DUCK_JSON=$(tail -n 1 "$TMP/duckdb.out")
json_field() { node -e 'const o = JSON.parse(process.argv[1]); console.log(o[process.argv[2]]);' "$DUCK_JSON" "$1"; }
D_ROWS=$(json_field rows)
D_LOAD=$(json_field load_ms)
D_QUERY=$(json_field query_ms_median)
D_SUM=$(json_field checksum_l10)

# --- our side -------------------------------------------------------------------------------------
print_duckdb_only() {
  echo
  printf '%-34s %10s %12s\n' "engine" "rows" "time ms"
  printf '%-34s %10s %12s\n' "duckdb window query (median of 5)" "$D_ROWS" "$D_QUERY"
  printf '%-34s %10s %12s\n' "duckdb CSV load" "" "$D_LOAD"
}

echo
if [[ ! -x build/nbaprops ]]; then
  echo "== ours: build/nbaprops not found; build it with \`make build\` (from $REPO_ROOT), then rerun."
  print_duckdb_only
  exit 0
fi
if ! command -v sqlite3 >/dev/null; then
  echo "== ours: the sqlite3 shell is missing (apt-get install -y sqlite3); reporting DuckDB only."
  print_duckdb_only
  exit 0
fi

echo "== ours: build/nbaprops demo --db \$TMP/peer.db -q   (bundled 2023-24 season, full backfill)"
DEMO_START=$(date +%s%N)
if ! build/nbaprops demo --db "$TMP/peer.db" -q >"$TMP/demo.log" 2>&1; then
  echo "nbaprops demo failed (is the build mid-change? try \`make build\`); last lines:"
  tail -n 15 "$TMP/demo.log" | sed 's/^/  | /'
  print_duckdb_only
  exit 0
fi
DEMO_MS=$(( ($(date +%s%N) - DEMO_START) / 1000000 ))

IFS='|' read -r O_RUNS O_MS < <(sqlite3 "$TMP/peer.db" \
  "SELECT COUNT(*), SUM(duration_ms) FROM processor_runs WHERE processor='player_daily_cache' AND status='succeeded'")
O_ROWS=$(sqlite3 "$TMP/peer.db" "SELECT COUNT(*) FROM precompute_player_daily_cache")
O_MS=${O_MS:-0}
echo "player_daily_cache: $O_RUNS succeeded run(s), SUM(duration_ms) = $O_MS ms; precompute_player_daily_cache rows: $O_ROWS"
echo "(whole demo: import + all processors + summary, wall clock: $DEMO_MS ms)"

# Row-by-row check on the player-games both sides have: ours keys rows by (date, expected player),
# DuckDB by played game, so the overlap is ours' rows whose player played that day. Rows DuckDB keys
# by name (box scores without a person id) do not join.
C_N=0 C_BAD=? C_OURS=? C_DUCK=?
if sqlite3 -bail "$TMP/peer.db" >"$TMP/check.out" 2>"$TMP/check.err" <<SQL
CREATE TEMP TABLE duck (player_key TEXT, game_date TEXT, game_id TEXT, pts_avg_l3, pts_avg_l5, pts_avg_l10,
                        pts_avg_season, pts_std_l10, minutes_avg_l10, games_season);
.import --csv --skip 1 "$TMP/duckdb_rows.csv" duck
CREATE TEMP VIEW pairs AS
  SELECT c.*, NULLIF(d.pts_avg_l3, '') AS d3, NULLIF(d.pts_avg_l5, '') AS d5, NULLIF(d.pts_avg_l10, '') AS d10,
         NULLIF(d.pts_avg_season, '') AS dseason, NULLIF(d.pts_std_l10, '') AS dstd,
         NULLIF(d.minutes_avg_l10, '') AS dmin, CAST(d.games_season AS INTEGER) AS dgames
  FROM duck d JOIN precompute_player_daily_cache c ON c.player_id = d.player_key AND c.game_date = d.game_date;
SELECT COUNT(*),
       SUM(NOT ((pts_avg_l3 IS NULL AND d3 IS NULL) OR ABS(pts_avg_l3 - d3) <= 1e-6)
        OR NOT ((pts_avg_l5 IS NULL AND d5 IS NULL) OR ABS(pts_avg_l5 - d5) <= 1e-6)
        OR NOT ((pts_avg_l10 IS NULL AND d10 IS NULL) OR ABS(pts_avg_l10 - d10) <= 1e-6)
        OR NOT ((pts_avg_season IS NULL AND dseason IS NULL) OR ABS(pts_avg_season - dseason) <= 1e-6)
        OR NOT ((pts_std_l10 IS NULL AND dstd IS NULL) OR ABS(pts_std_l10 - dstd) <= 1e-6)
        OR NOT ((minutes_avg_l10 IS NULL AND dmin IS NULL) OR ABS(minutes_avg_l10 - dmin) <= 1e-6)
        OR games_season IS NOT dgames),
       printf('%.3f', SUM(pts_avg_l10)), printf('%.3f', SUM(d10))
FROM pairs;
SQL
then
  IFS='|' read -r C_N C_BAD C_OURS C_DUCK <"$TMP/check.out" || true
else
  echo "row-by-row check failed: $(head -n 3 "$TMP/check.err")"
fi

echo
printf '%-38s %10s %12s   %s\n' "engine" "rows" "time ms" "what is timed"
printf '%-38s %10s %12s   %s\n' "duckdb (@duckdb/node-api)" "$D_ROWS" "$D_QUERY" \
  "median of 5: one in-memory window query over the loaded CSV"
printf '%-38s %10s %12s   %s\n' "  + CSV load (once)" "" "$D_LOAD" "read_csv_auto into an in-memory table"
printf '%-38s %10s %12s   %s\n' "ours (player_daily_cache)" "$O_ROWS" "$O_MS" \
  "sum of $O_RUNS per-date runs (processor_runs.duration_ms)"
echo
echo "checksums: duckdb sum(pts_avg_l10) over all $D_ROWS played games = $D_SUM"
echo "           on the $C_N player-games both have: ours $C_OURS, duckdb $C_DUCK;" \
     "rows differing in any of the 7 stats (tolerance 1e-6): $C_BAD"
echo
echo "note: indicative only. Ours is the real processor: per game date it reads from SQLite, goes through"
echo "      the run ledger and lease bookkeeping, computes for the players expected that day (also"
echo "      extra columns: ewma, usage, ts, team pace/rating, last-7/14-day counts) and rewrites the"
echo "      table's rows for that date. DuckDB's figure is one in-memory query over the CSV computing"
echo "      the 7 rolling stats for every played game, with nothing written."
