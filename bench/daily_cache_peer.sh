#!/usr/bin/env bash
# Peer benchmark for three phase-4 processors: player_daily_cache, player_shot_zone_analysis and
# team_defense_zone_analysis, each computed as one DuckDB query (bench/duckdb_daily_cache.mjs), next
# to our processor's timings (SUM(processor_runs.duration_ms) of its succeeded runs) and checked row
# by row against our tables.
#
# Usage: bench/daily_cache_peer.sh [--scale N] [--backfill] [box_scores.csv]     (from any directory)
#   no arguments   1x rows: DuckDB over data/2023-24/box_scores.csv (+ schedule.csv), ours from
#                  `nbaprops demo` on the bundled season (as this script has always done).
#   box_scores.csv DuckDB over another CSV (schedule.csv next to it, if any, for team defense); our
#                  side still runs `nbaprops demo` on the bundled season, so those are DuckDB figures
#                  only (1x only).
#   --scale N      N times the rows: bench/make_seasons.mjs writes N seasons into a temp dir (the
#                  bundled 2023-24 season shifted back k*364 days, k = 0..N-1, game ids per season);
#                  DuckDB reads all N seasons' box scores + schedules as one CSV each; ours is
#                  `nbaprops init` + `import` + per season `backfill --from FIRST --to LAST --phase 3`
#                  then `--phase 4` (FIRST/LAST = that season's first and last game date, so the
#                  off-season days between seasons are not run, as the demo does not run them;
#                  phase 5, predictions, reads none of these tables and is not run) on a temp
#                  SQLite db.
#   --backfill     at 1x, run ours the --scale way (init + import + backfill) instead of the demo, so
#                  1x and Nx figures come from the same driver.
#   NBAPROPS_BIN   the binary for our side (default build/nbaprops; a relative path is the caller's).
#   DUCKDB_THREADS passed on to the DuckDB side (default: all cores).
#   DAILY_CACHE_PEER_KEEP=1 keeps the temp dir (our db, DuckDB's rows as CSV, the generated data).
# Output: the DuckDB figures, ours per processor, then one table with a row per processor: DuckDB
# load ms, query ms (median of 5), ours ms (summed run durations), rows on each side, rows compared
# and rows that differ in any column beyond 1e-6; then checksums and notes.
# Needs node + npm (installs @duckdb/node-api into bench/.duckdb-peer/ on first use) and, for our
# side, build/nbaprops (`make build`) and the sqlite3 shell.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "error: $*" >&2; exit 2; }

SCALE=1 BACKFILL=0 CSV_ARG=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --scale) [[ $# -ge 2 ]] || die "--scale needs a value (a whole number >= 1)"; SCALE=$2; shift 2 ;;
    --scale=*) SCALE=${1#--scale=}; shift ;;
    --backfill) BACKFILL=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [[ -z "$CSV_ARG" ]] || die "only one box_scores.csv may be given"; CSV_ARG=$1; shift ;;
  esac
done
[[ "$SCALE" =~ ^[1-9][0-9]*$ ]] || die "--scale '$SCALE' is not a whole number >= 1"
if [[ "$SCALE" -gt 1 && -n "$CSV_ARG" ]]; then
  die "--scale $SCALE generates its own data; it cannot be combined with a box_scores.csv"
fi
if [[ -n "$CSV_ARG" && "$BACKFILL" == 1 ]]; then
  die "--backfill runs ours on the bundled season; with a box_scores.csv the ours side would not match it"
fi

CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT=$(pwd)
PREFIX=bench/.duckdb-peer
abs() { if [[ "$1" == /* ]]; then echo "$1"; else echo "$2/$1"; fi; }
if [[ -n "${NBAPROPS_BIN:-}" ]]; then
  BIN=$(abs "$NBAPROPS_BIN" "$CALLER_PWD")
  [[ -f "$BIN" && -x "$BIN" ]] || die "NBAPROPS_BIN=$NBAPROPS_BIN: $BIN is not an executable file"
else
  BIN="$REPO_ROOT/build/nbaprops"
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found (Node 20 + npm are needed)" >&2; exit 1; }
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/daily-cache-peer.XXXXXX")
if [[ -n "${DAILY_CACHE_PEER_KEEP:-}" ]]; then
  trap 'echo "(kept $TMP: peer.db, the DuckDB rows, the generated data)"' EXIT
else
  trap 'rm -rf "$TMP"' EXIT
fi
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
SCRIPT_START=$(now_ms)

# --- data -----------------------------------------------------------------------------------------
# The generated seasons serve both sides: DuckDB reads the concatenated CSVs, ours imports the
# per-season directories (also at 1x with --backfill, where copy 0 is the bundled season unchanged).
GEN=
if [[ "$SCALE" -gt 1 || "$BACKFILL" == 1 ]]; then
  GEN="$TMP/data"
  echo "== data: $SCALE season(s) from data/2023-24 (bench/make_seasons.mjs)"
  GEN_START=$(now_ms)
  node bench/make_seasons.mjs --scale "$SCALE" --out "$GEN"
  echo "(generated in $(( $(now_ms) - GEN_START )) ms)"
  echo
fi
if [[ "$SCALE" -gt 1 ]]; then
  CSV="$GEN/duckdb/box_scores.csv"
  SCHEDULE="$GEN/duckdb/schedule.csv"
else
  if [[ -n "$CSV_ARG" ]]; then CSV=$(abs "$CSV_ARG" "$CALLER_PWD")  # a given path is the caller's
  else CSV="$REPO_ROOT/data/2023-24/box_scores.csv"; fi
  [[ -f "$CSV" ]] || die "$CSV: no such file"
  SCHEDULE="$(dirname "$CSV")/schedule.csv"
fi

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
echo "== DuckDB: rolling points stats for every player-game, one window query (and shot zones, team defense)"
SCHEDULE_ARGS=()
[[ -f "$SCHEDULE" ]] && SCHEDULE_ARGS=("$SCHEDULE")
# The .mjs loads the package from the prefix itself (createRequire anchored there), so no NODE_PATH.
DUCKDB_PEER_PREFIX="$REPO_ROOT/$PREFIX" DUCKDB_PEER_OUT="$TMP/duckdb_rows.csv" \
  DUCKDB_PEER_OUT_SHOT_ZONE="$TMP/duckdb_shot_zone.csv" DUCKDB_PEER_OUT_TEAM_DEFENSE="$TMP/duckdb_team_defense.csv" \
  node bench/duckdb_daily_cache.mjs "$CSV" "${SCHEDULE_ARGS[@]}" | tee "$TMP/duckdb.out"
DUCK_JSON=$(tail -n 1 "$TMP/duckdb.out")
# json_field a.b.c: a field of the JSON line ('' when absent).
json_field() {
  node -e 'let o = JSON.parse(process.argv[1]); for (const k of process.argv[2].split(".")) o = o == null ? o : o[k];
           console.log(o == null ? "" : o);' "$DUCK_JSON" "$1"
}
D_ROWS=$(json_field rows)
D_SUM=$(json_field checksum_l10)

PROCESSORS=(player_daily_cache player_shot_zone_analysis team_defense_zone_analysis)
declare -A TABLE=([player_daily_cache]=precompute_player_daily_cache
                  [player_shot_zone_analysis]=precompute_player_shot_zone_analysis
                  [team_defense_zone_analysis]=precompute_team_defense_zone_analysis)
declare -A DL DQ DR DSKIP OMS ORUNS OROWS CN CBAD CNOTE
for p in "${PROCESSORS[@]}"; do
  DL[$p]=$(json_field "processors.$p.load_ms")
  DQ[$p]=$(json_field "processors.$p.query_ms_median")
  DR[$p]=$(json_field "processors.$p.rows")
  DSKIP[$p]=$(json_field "processors.$p.skipped")
  OMS[$p]=- ORUNS[$p]=- OROWS[$p]=- CN[$p]=- CBAD[$p]=- CNOTE[$p]=
done

print_table() {
  echo
  printf '%-28s %12s %12s %12s %7s %12s %10s %9s %9s\n' "processor" "duckdb load" "duckdb query" "ours" "runs" \
    "duckdb rows" "ours rows" "compared" "differing"
  printf '%-28s %12s %12s %12s %7s %12s %10s %9s %9s\n' "" "ms" "ms (med 5)" "ms (sum)" "" "" "" "rows" "rows"
  for p in "${PROCESSORS[@]}"; do
    if [[ -n "${DSKIP[$p]}" ]]; then
      printf '%-28s %12s %12s %12s %7s %12s %10s %9s %9s   duckdb skipped: %s\n' "$p" - - "${OMS[$p]}" "${ORUNS[$p]}" \
        - "${OROWS[$p]}" - - "${DSKIP[$p]}"
    else
      printf '%-28s %12s %12s %12s %7s %12s %10s %9s %9s%s\n' "$p" "${DL[$p]}" "${DQ[$p]}" "${OMS[$p]}" "${ORUNS[$p]}" \
        "${DR[$p]}" "${OROWS[$p]}" "${CN[$p]}" "${CBAD[$p]}" "${CNOTE[$p]:+   ${CNOTE[$p]}}"
    fi
  done
  echo "(duckdb load: read_csv_auto of the tables the query reads, box scores; team defense also the schedule)"
}
print_duckdb_only() {
  print_table
  echo "ours: not run (see above)"
}

# --- our side -------------------------------------------------------------------------------------
echo
if [[ ! -x "$BIN" ]]; then
  echo "== ours: build/nbaprops not found; build it with \`make build\` (from $REPO_ROOT), then rerun."
  print_duckdb_only
  exit 0
fi
if ! command -v sqlite3 >/dev/null; then
  echo "== ours: the sqlite3 shell is missing (apt-get install -y sqlite3); reporting DuckDB only."
  print_duckdb_only
  exit 0
fi
BIN_SHOWN=${BIN#"$REPO_ROOT/"}
DB="$TMP/peer.db"

if [[ -z "$GEN" ]]; then
  echo "== ours: $BIN_SHOWN demo --db \$TMP/peer.db -q   (bundled 2023-24 season, full backfill)"
  DEMO_START=$(date +%s%N)
  if ! "$BIN" demo --db "$DB" -q >"$TMP/demo.log" 2>&1; then
    echo "nbaprops demo failed (is the build mid-change? try \`make build\`); last lines:"
    tail -n 15 "$TMP/demo.log" | sed 's/^/  | /'
    print_duckdb_only
    exit 0
  fi
  DEMO_MS=$(( ($(date +%s%N) - DEMO_START) / 1000000 ))
  OURS_WALL="(whole demo: import + all processors + summary, wall clock: $DEMO_MS ms)"
else
  # Each step's output goes to a log; a failure shows its tail and leaves the DuckDB figures.
  ours_step() {  # ours_step LABEL ARGS...: runs the binary with ARGS, appends to $TMP/ours.log
    local label=$1; shift
    echo "+ $BIN_SHOWN $*" | sed "s|$TMP|\$TMP|g" >>"$TMP/ours.log"
    if ! "$BIN" "$@" >>"$TMP/ours.log" 2>&1; then
      echo "nbaprops $label failed (is the build mid-change? try \`make build\`); last lines:"
      tail -n 15 "$TMP/ours.log" | sed 's/^/  | /'
      print_duckdb_only
      exit 0
    fi
  }
  NSEASONS=$(wc -l <"$GEN/seasons.txt")
  echo "== ours: $BIN_SHOWN init + import \$TMP/data/import + per season backfill --phase 3, --phase 4 -q"
  echo "   ($NSEASONS season(s) on \$TMP/peer.db; log of every command: \$TMP/ours.log)"
  T0=$(now_ms)
  ours_step init init --db "$DB" -q
  ours_step import import "$GEN/import" --db "$DB" -q
  IMPORT_MS=$(( $(now_ms) - T0 ))
  grep '^import:' "$TMP/ours.log" | sed 's/^/   /'
  T0=$(now_ms)
  while read -r season first last; do
    for phase in 3 4; do
      ours_step "backfill $season phase $phase" backfill --from "$first" --to "$last" --phase "$phase" --db "$DB" -q
    done
    echo "   $season: backfill $first .. $last done ($(( $(now_ms) - T0 )) ms so far)"
  done <"$GEN/seasons.txt"
  BACKFILL_MS=$(( $(now_ms) - T0 ))
  OURS_WALL="(ours, wall clock: init + import $IMPORT_MS ms, backfill phases 3-4 $BACKFILL_MS ms)"
fi

for p in "${PROCESSORS[@]}"; do
  IFS='|' read -r ORUNS[$p] OMS[$p] < <(sqlite3 "$DB" \
    "SELECT COUNT(*), COALESCE(SUM(duration_ms), 0) FROM processor_runs WHERE processor='$p' AND status='succeeded'")
  OROWS[$p]=$(sqlite3 "$DB" "SELECT COUNT(*) FROM ${TABLE[$p]}")
  echo "$p: ${ORUNS[$p]} succeeded run(s), SUM(duration_ms) = ${OMS[$p]} ms; ${TABLE[$p]} rows: ${OROWS[$p]}"
done
FAILED_RUNS=$(sqlite3 "$DB" "SELECT COUNT(*) FROM processor_runs WHERE status IN ('failed','dead')
                             AND processor IN ('player_daily_cache','player_shot_zone_analysis','team_defense_zone_analysis')")
[[ "$FAILED_RUNS" == 0 ]] || echo "warning: $FAILED_RUNS failed run(s) of these processors (their dates' rows are missing)"
echo "$OURS_WALL"

# --- row-by-row checks ----------------------------------------------------------------------------
# differ COL...: SQL true when ours (c.COL) and DuckDB (d.COL, '' = NULL) differ beyond 1e-6.
differ() {
  local col out=""
  for col in "$@"; do
    out+="${out:+ OR }NOT ((c.$col IS NULL AND NULLIF(d.$col, '') IS NULL) OR ABS(c.$col - NULLIF(d.$col, '')) <= 1e-6)"
  done
  echo "$out"
}
# run_check PROCESSOR SQL: runs the check, whose output is "compared|differing|..." (more fields after).
run_check() {
  local p=$1 sql=$2
  if sqlite3 -bail "$DB" >"$TMP/check_$p.out" 2>"$TMP/check_$p.err" <<<"$sql"; then
    IFS='|' read -r CN[$p] CBAD[$p] _ <"$TMP/check_$p.out" || true
  else
    echo "row-by-row check of $p failed: $(head -n 3 "$TMP/check_$p.err")"
    CN[$p]=? CBAD[$p]=?
  fi
}

# player_daily_cache. Ours keys rows by (date, expected player), DuckDB by played game, so the overlap
# is ours' rows whose player played that day. Rows DuckDB keys by name (box scores without a person
# id) do not join. The player key + game date identify a row at any scale (a season per copy).
C_OURS=? C_DUCK=?
run_check player_daily_cache "
CREATE TEMP TABLE duck (player_key TEXT, game_date TEXT, game_id TEXT, pts_avg_l3, pts_avg_l5, pts_avg_l10,
                        pts_avg_season, pts_std_l10, minutes_avg_l10, games_season);
.import --csv --skip 1 \"$TMP/duckdb_rows.csv\" duck
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
FROM pairs;"
[[ -s "$TMP/check_player_daily_cache.out" ]] &&
  IFS='|' read -r _ _ C_OURS C_DUCK <"$TMP/check_player_daily_cache.out"

# player_shot_zone_analysis: the same keys and overlap as the daily cache.
SZ_SHARES=(two_pt_share_l10 three_pt_share_l10 ft_share_l10 two_pt_share_l20 three_pt_share_l20 ft_share_l20)
run_check player_shot_zone_analysis "
CREATE TEMP TABLE duck (player_key TEXT, game_date TEXT, game_id TEXT, games_l10, two_pt_share_l10,
                        three_pt_share_l10, ft_share_l10, games_l20, two_pt_share_l20, three_pt_share_l20,
                        ft_share_l20);
.import --csv --skip 1 \"$TMP/duckdb_shot_zone.csv\" duck
SELECT COUNT(*),
       SUM($(differ "${SZ_SHARES[@]}") OR c.games_l10 IS NOT CAST(d.games_l10 AS INTEGER)
           OR c.games_l20 IS NOT CAST(d.games_l20 AS INTEGER)),
       printf('%.3f', SUM(c.three_pt_share_l10)), printf('%.3f', SUM(NULLIF(d.three_pt_share_l10, '')))
FROM duck d JOIN precompute_player_shot_zone_analysis c ON c.player_id = d.player_key AND c.game_date = d.game_date;"

# team_defense_zone_analysis: a row per team of each scheduled game on both sides, so every row
# should join; rows of one side only are counted as well.
TD_VALUES=(points_allowed two_pt_allowed three_pt_allowed ft_allowed league_two_pt league_three_pt league_ft
           two_pt_vs_league three_pt_vs_league ft_vs_league defensive_rating pace league_pace)
TD_ONLY_OURS=? TD_ONLY_DUCK=?
if [[ -z "${DSKIP[team_defense_zone_analysis]}" ]]; then
  run_check team_defense_zone_analysis "
CREATE TEMP TABLE duck (game_date TEXT, team TEXT, opponent TEXT, games, points_allowed, two_pt_allowed,
                        three_pt_allowed, ft_allowed, league_two_pt, league_three_pt, league_ft, two_pt_vs_league,
                        three_pt_vs_league, ft_vs_league, defensive_rating, pace, league_pace);
.import --csv --skip 1 \"$TMP/duckdb_team_defense.csv\" duck
CREATE INDEX temp.duck_key ON duck (game_date, team);  -- else the one-side-only counts scan it per row
SELECT COUNT(*),
       SUM($(differ "${TD_VALUES[@]}") OR c.opponent IS NOT d.opponent OR c.games IS NOT CAST(d.games AS INTEGER)
           OR c.paint_allowed IS NOT NULL OR c.mid_range_allowed IS NOT NULL),
       printf('%.3f', SUM(c.points_allowed)), printf('%.3f', SUM(NULLIF(d.points_allowed, ''))),
       (SELECT COUNT(*) FROM precompute_team_defense_zone_analysis o WHERE NOT EXISTS
          (SELECT 1 FROM duck x WHERE x.game_date = o.game_date AND x.team = o.team)),
       (SELECT COUNT(*) FROM duck x WHERE NOT EXISTS (SELECT 1 FROM precompute_team_defense_zone_analysis o
          WHERE x.game_date = o.game_date AND x.team = o.team))
FROM duck d JOIN precompute_team_defense_zone_analysis c ON c.team = d.team AND c.game_date = d.game_date;"
  if [[ -s "$TMP/check_team_defense_zone_analysis.out" ]]; then
    IFS='|' read -r _ _ _ _ TD_ONLY_OURS TD_ONLY_DUCK <"$TMP/check_team_defense_zone_analysis.out"
    if [[ "$TD_ONLY_OURS" != 0 || "$TD_ONLY_DUCK" != 0 ]]; then
      CNOTE[team_defense_zone_analysis]="unmatched rows: ours $TD_ONLY_OURS, duckdb $TD_ONLY_DUCK"
    fi
  fi
fi
checksums_of() {  # checksums_of PROCESSOR: "ours X, duckdb Y" from its check's fields 3 and 4
  local ours duck
  if [[ -s "$TMP/check_$1.out" ]]; then
    IFS='|' read -r _ _ ours duck _ <"$TMP/check_$1.out"
    echo "ours $ours, duckdb $duck"
  else
    echo "not available"
  fi
}

print_table
echo
echo "checksums: duckdb sum(pts_avg_l10) over all $D_ROWS played games = $D_SUM"
echo "           on the ${CN[player_daily_cache]} player-games both have: ours $C_OURS, duckdb $C_DUCK;" \
     "rows differing in any of the 7 stats (tolerance 1e-6): ${CBAD[player_daily_cache]}"
echo "           shot zones, sum(three_pt_share_l10) on the ${CN[player_shot_zone_analysis]} player-games both" \
     "have: $(checksums_of player_shot_zone_analysis); rows differing in any of the 8 columns:" \
     "${CBAD[player_shot_zone_analysis]}"
if [[ -z "${DSKIP[team_defense_zone_analysis]}" ]]; then
  echo "           team defense, sum(points_allowed) on the ${CN[team_defense_zone_analysis]} team-games both" \
       "have: $(checksums_of team_defense_zone_analysis); rows differing in any of the 15 columns:" \
       "${CBAD[team_defense_zone_analysis]}; rows on one side only: ours $TD_ONLY_OURS, duckdb $TD_ONLY_DUCK"
fi
echo
echo "scale ${SCALE}x: $(grep -o '([0-9]* box-score rows)' "$TMP/duckdb.out" | tr -d '()'), $D_ROWS played" \
     "(minutes > 0); whole script wall clock $(( $(now_ms) - SCRIPT_START )) ms"
echo
echo "note: indicative only. Ours is the real processor: per game date it reads from SQLite, goes through"
echo "      the run ledger and lease bookkeeping, computes for the players expected that day (also"
echo "      extra columns: ewma, usage, ts, team pace/rating, last-7/14-day counts) and rewrites the"
echo "      table's rows for that date. DuckDB's figure is one in-memory query over the CSV computing"
echo "      the 7 rolling stats for every played game, with nothing written."
echo "      Shot zones: two/three/ft shares of the last 10 and 20 games within 56 days, both sides"
echo "      (paint and mid-range shares need play-by-play: NULL in ours, not computed by DuckDB)."
echo "      Team defense: DuckDB rebuilds team_offense/defense_game_summary from the box scores and the"
echo "      schedule's scores (points allowed), then the last-15 means, league means and ratios; ours"
echo "      reads phase 3's analytics_team_defense_game_summary (its cost is not in ours' figure)."
echo "      Player rows join on (player id, game date); box-score rows without a person id are keyed"
echo "      by name on the DuckDB side and do not join. Out of scope: player_composite_factors and the"
echo "      ml_feature_store (they combine the tables above with injuries and lines, not box-score windows)."
