// Peer benchmark: three phase-4 processors, each as one DuckDB query over the box-score CSV.
//
//   player_daily_cache          For every box-score row with minutes > 0, over the same player's
//                               earlier games with minutes > 0 in the same season ("as of before the
//                               game"): pts_avg_l3, pts_avg_l5, pts_avg_l10, pts_avg_season,
//                               pts_std_l10 (sample, NULL under 2 games), minutes_avg_l10, games_season.
//   player_shot_zone_analysis   For every such row: the share of two-point, three-point and free-throw
//                               points in the player's last 10 and last 20 earlier games of the season
//                               that fall in the 56 days before the date (kLast20WindowDays), NULL when
//                               those games scored no points; games_l10 / games_l20 = how many counted.
//   team_defense_zone_analysis  For every team in every scheduled (not postponed) game: means over its
//                               last 15 earlier team-games of the season of points, two-, three- and
//                               free-throw points allowed, defensive rating and possessions; the league
//                               means over every team-game of the season before the date; ratios to them.
//                               The team-games are built from the box scores the way phase 3 builds
//                               analytics_team_offense/defense_game_summary (pipeline/analytics.cc), with
//                               the schedule's final score as points allowed (the box-score sum when the
//                               schedule has none), so this one also needs schedule.csv.
//
// Usage: node bench/duckdb_daily_cache.mjs [box_scores.csv [schedule.csv]]
//   default box_scores.csv: data/2023-24/box_scores.csv under the repo root (this file's parent directory);
//   default schedule.csv: schedule.csv next to the box-score CSV; without one, team_defense_zone_analysis
//   is skipped (reported, not faked).
//   DUCKDB_PEER_PREFIX            npm prefix holding @duckdb/node-api (default: bench/.duckdb-peer next to this file)
//   DUCKDB_PEER_OUT               if set, writes player_daily_cache's per-row results there as CSV (untimed, after the runs)
//   DUCKDB_PEER_OUT_SHOT_ZONE     the same for player_shot_zone_analysis
//   DUCKDB_PEER_OUT_TEAM_DEFENSE  the same for team_defense_zone_analysis
//   DUCKDB_THREADS                DuckDB worker threads (default: DuckDB's own, i.e. all cores)
// Prints human-readable lines, then one JSON line last (the peer script reads it).
// Normally run through bench/daily_cache_peer.sh, which installs the package first.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const prefix = path.resolve(process.env.DUCKDB_PEER_PREFIX || path.join(benchDir, '.duckdb-peer'));

// An ES module resolves bare specifiers from its own directory, which never reaches the private
// prefix; a require() anchored inside the prefix does (@duckdb/node-api is a CommonJS package).
function loadDuckDB() {
  const requireFromPrefix = createRequire(path.join(prefix, 'package.json'));
  try {
    return requireFromPrefix('@duckdb/node-api');
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND') {
      console.error(`@duckdb/node-api not found under ${prefix}.`);
      console.error(`Install it with: npm install --prefix ${prefix} --no-audit --no-fund @duckdb/node-api`);
      console.error('(or run bench/daily_cache_peer.sh, which does that)');
      process.exit(2);
    }
    throw err;
  }
}

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const ms = (x) => Math.round(x * 100) / 100;

const RUNS = 5;

// Season: starts on 1 September, like SeasonStart() in pipeline/partition.cc.
const SEASON = (col) => `CASE WHEN month(${col}) < 9 THEN year(${col}) - 1 ELSE year(${col}) END`;

// Player key: the NBA person id; the few rows without one (source nba_com) fall back to the name.
// Ours resolves those names to registry ids, so their rows do not join (the check is on the rest).
const PLAYED = `
  SELECT COALESCE(NULLIF(CAST(player_id AS VARCHAR), ''), 'name:' || player_name) AS player_key,
         game_id, game_date, date_diff('day', DATE '1970-01-01', game_date) AS day, minutes, points,
         -- analytics_player_game_summary's two/three/ft points; the processors read them COALESCEd to 0
         COALESCE(2 * (fgm - fg3m), 0) AS two, COALESCE(3 * fg3m, 0) AS three, COALESCE(ftm, 0) AS ft,
         ${SEASON('game_date')} AS season
  FROM box
  WHERE minutes > 0`;

// ROWS ... AND 1 PRECEDING excludes the current game: each row sees only earlier games (there is
// at most one game per player and date, so that is "strictly before the game date").
const DAILY_CACHE_SQL = `
  WITH played AS (${PLAYED})
  SELECT player_key, game_date, game_id,
         AVG(points)          OVER (w ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING)         AS pts_avg_l3,
         AVG(points)          OVER (w ROWS BETWEEN 5 PRECEDING AND 1 PRECEDING)         AS pts_avg_l5,
         AVG(points)          OVER (w ROWS BETWEEN 10 PRECEDING AND 1 PRECEDING)        AS pts_avg_l10,
         AVG(points)          OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS pts_avg_season,
         STDDEV_SAMP(points)  OVER (w ROWS BETWEEN 10 PRECEDING AND 1 PRECEDING)        AS pts_std_l10,
         AVG(minutes)         OVER (w ROWS BETWEEN 10 PRECEDING AND 1 PRECEDING)        AS minutes_avg_l10,
         COUNT(*)             OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS games_season
  FROM played
  WINDOW w AS (PARTITION BY player_key, season ORDER BY game_date, game_id)`;

// PlayerShotZoneProcessor reads the games in [max(season start, date - 56 days), date) and takes the
// last 10 / 20 of them. As a window: count the games in the 56-day RANGE frame, then sum over a ROWS
// frame of that many (at most 10 / 20) rows back; those rows are the latest earlier games, so they
// are exactly the in-window ones. DuckDB accepts a per-row expression as the frame offset.
const LAST20_WINDOW_DAYS = 56;  // kLast20WindowDays, pipeline/precompute.cc
const SHOT_ZONE_SQL = `
  WITH played AS (${PLAYED}),
  counted AS (
    SELECT *, COUNT(*) OVER (PARTITION BY player_key, season ORDER BY day
                             RANGE BETWEEN ${LAST20_WINDOW_DAYS} PRECEDING AND 1 PRECEDING) AS in_window
    FROM played),
  sums AS (
    SELECT player_key, game_date, game_id,
           LEAST(in_window, 10) AS games_l10, LEAST(in_window, 20) AS games_l20,
           SUM(two)   OVER (w ROWS BETWEEN LEAST(in_window, 10) PRECEDING AND 1 PRECEDING) AS two10,
           SUM(three) OVER (w ROWS BETWEEN LEAST(in_window, 10) PRECEDING AND 1 PRECEDING) AS three10,
           SUM(ft)    OVER (w ROWS BETWEEN LEAST(in_window, 10) PRECEDING AND 1 PRECEDING) AS ft10,
           SUM(two)   OVER (w ROWS BETWEEN LEAST(in_window, 20) PRECEDING AND 1 PRECEDING) AS two20,
           SUM(three) OVER (w ROWS BETWEEN LEAST(in_window, 20) PRECEDING AND 1 PRECEDING) AS three20,
           SUM(ft)    OVER (w ROWS BETWEEN LEAST(in_window, 20) PRECEDING AND 1 PRECEDING) AS ft20
    FROM counted
    WINDOW w AS (PARTITION BY player_key, season ORDER BY game_date, game_id))
  SELECT player_key, game_date, game_id,
         games_l10,
         CASE WHEN two10 + three10 + ft10 > 0 THEN two10   / (two10 + three10 + ft10) END AS two_pt_share_l10,
         CASE WHEN two10 + three10 + ft10 > 0 THEN three10 / (two10 + three10 + ft10) END AS three_pt_share_l10,
         CASE WHEN two10 + three10 + ft10 > 0 THEN ft10    / (two10 + three10 + ft10) END AS ft_share_l10,
         games_l20,
         CASE WHEN two20 + three20 + ft20 > 0 THEN two20   / (two20 + three20 + ft20) END AS two_pt_share_l20,
         CASE WHEN two20 + three20 + ft20 > 0 THEN three20 / (two20 + three20 + ft20) END AS three_pt_share_l20,
         CASE WHEN two20 + three20 + ft20 > 0 THEN ft20    / (two20 + three20 + ft20) END AS ft_share_l20
  FROM sums`;

// team_offense_game_summary (a row per team per game: sums over the team's box-score rows, points
// from the schedule) -> team_defense_game_summary (the opponent's offense) -> the processor's rows:
// per team of each not-postponed scheduled game, the last 15 team-games of the season before the
// date (ASOF: the latest team-game strictly before, whose 15-row frame ends at itself) and the league
// over all of the season's team-games before the date (ASOF on a per-date running sum).
const TEAM_DEFENSE_GAMES = 15;  // kTeamDefenseGames, pipeline/precompute.cc
const TEAM_DEFENSE_SQL = `
  WITH offense AS (
    SELECT b.game_date, b.game_id, b.team,
           MAX(CASE WHEN s.game_id IS NULL THEN b.opponent
                    WHEN s.home_team = b.team THEN s.away_team ELSE s.home_team END) AS opponent,
           MAX(CASE WHEN s.home_team = b.team THEN s.home_points ELSE s.away_points END) AS points,
           SUM(b.points) AS box_score_points,
           SUM(2 * (b.fgm - b.fg3m)) AS two, SUM(3 * b.fg3m) AS three, SUM(b.ftm) AS ft,
           SUM(b.fga) + CAST(0.44 AS DOUBLE) * SUM(b.fta) - SUM(b.oreb) + SUM(b.tov) AS possessions
    FROM box b LEFT JOIN schedule s ON s.game_id = b.game_id
    GROUP BY b.game_date, b.game_id, b.team),
  defense AS (
    SELECT game_date, opponent AS team, ${SEASON('game_date')} AS season,
           CAST(COALESCE(points, box_score_points) AS DOUBLE) AS points_allowed, two, three, ft, possessions,
           CASE WHEN possessions > 0 THEN 100.0 * COALESCE(points, box_score_points) / possessions END AS rating
    FROM offense),
  team_roll AS (
    SELECT team, season, game_date,
           COUNT(*) OVER w AS games, AVG(points_allowed) OVER w AS points_allowed, AVG(two) OVER w AS two,
           AVG(three) OVER w AS three, AVG(ft) OVER w AS ft, AVG(rating) OVER w AS rating,
           AVG(possessions) OVER w AS pace
    FROM defense
    WINDOW w AS (PARTITION BY team, season ORDER BY game_date
                 ROWS BETWEEN ${TEAM_DEFENSE_GAMES - 1} PRECEDING AND CURRENT ROW)),
  league_day AS (
    SELECT season, game_date, SUM(two) AS two, SUM(three) AS three, SUM(ft) AS ft,
           SUM(COALESCE(possessions, 0)) AS possessions, COUNT(*) AS n
    FROM defense GROUP BY season, game_date),
  league AS (
    SELECT season, game_date,
           SUM(two) OVER w / SUM(n) OVER w AS two, SUM(three) OVER w / SUM(n) OVER w AS three,
           SUM(ft) OVER w / SUM(n) OVER w AS ft, SUM(possessions) OVER w / SUM(n) OVER w AS pace
    FROM league_day
    WINDOW w AS (PARTITION BY season ORDER BY game_date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)),
  targets AS (
    SELECT s.game_date, ${SEASON('s.game_date')} AS season, t.team, t.opponent
    FROM schedule s, LATERAL (VALUES (s.home_team, s.away_team), (s.away_team, s.home_team)) t(team, opponent)
    WHERE s.status IS DISTINCT FROM 'postponed')
  SELECT t.game_date, t.team, t.opponent, COALESCE(r.games, 0) AS games,
         r.points_allowed, r.two AS two_pt_allowed, r.three AS three_pt_allowed, r.ft AS ft_allowed,
         l.two AS league_two_pt, l.three AS league_three_pt, l.ft AS league_ft,
         CASE WHEN l.two > 0 THEN r.two / l.two - 1 END AS two_pt_vs_league,
         CASE WHEN l.three > 0 THEN r.three / l.three - 1 END AS three_pt_vs_league,
         CASE WHEN l.ft > 0 THEN r.ft / l.ft - 1 END AS ft_vs_league,
         r.rating AS defensive_rating, r.pace, l.pace AS league_pace
  FROM targets t
  ASOF LEFT JOIN team_roll r ON r.team = t.team AND r.season = t.season AND t.game_date > r.game_date
  ASOF LEFT JOIN league l ON l.season = t.season AND t.game_date > l.game_date`;

// Per processor: the query, its key columns and value columns (all aggregated in the timed run, so
// no window can be pruned by the optimizer), the checksum column and where to write its rows.
const PROCESSORS = [
  {
    name: 'player_daily_cache', sql: DAILY_CACHE_SQL, tables: ['box'], keys: ['player_key', 'game_date', 'game_id'],
    values: ['pts_avg_l3', 'pts_avg_l5', 'pts_avg_l10', 'pts_avg_season', 'pts_std_l10', 'minutes_avg_l10',
             'games_season'],
    checksum: 'pts_avg_l10', out: 'DUCKDB_PEER_OUT', what: 'player-games with minutes > 0',
  },
  {
    name: 'player_shot_zone_analysis', sql: SHOT_ZONE_SQL, tables: ['box'], keys: ['player_key', 'game_date', 'game_id'],
    values: ['games_l10', 'two_pt_share_l10', 'three_pt_share_l10', 'ft_share_l10', 'games_l20', 'two_pt_share_l20',
             'three_pt_share_l20', 'ft_share_l20'],
    checksum: 'three_pt_share_l10', out: 'DUCKDB_PEER_OUT_SHOT_ZONE', what: 'player-games with minutes > 0',
  },
  {
    name: 'team_defense_zone_analysis', sql: TEAM_DEFENSE_SQL, tables: ['box', 'schedule'],
    keys: ['game_date', 'team', 'opponent'],
    values: ['games', 'points_allowed', 'two_pt_allowed', 'three_pt_allowed', 'ft_allowed', 'league_two_pt',
             'league_three_pt', 'league_ft', 'two_pt_vs_league', 'three_pt_vs_league', 'ft_vs_league',
             'defensive_rating', 'pace', 'league_pace'],
    checksum: 'points_allowed', out: 'DUCKDB_PEER_OUT_TEAM_DEFENSE', what: 'team-games of scheduled games',
  },
];

const timedSql = (p) => `WITH r AS (${p.sql}) SELECT COUNT(*) AS n, ` +
  p.values.map((v, i) => `SUM(${v}) AS s${i}`).join(', ') + ` FROM r`;

async function main() {
  const csvArg = process.argv[2];
  const csvPath = csvArg ? path.resolve(csvArg) : path.join(repoRoot, 'data', '2023-24', 'box_scores.csv');
  const scheduleArg = process.argv[3];
  const schedulePath = scheduleArg ? path.resolve(scheduleArg) : path.join(path.dirname(csvPath), 'schedule.csv');
  if (!fs.existsSync(csvPath)) throw new Error(`${csvPath}: no such file`);
  if (scheduleArg && !fs.existsSync(schedulePath)) throw new Error(`${schedulePath}: no such file`);
  const haveSchedule = fs.existsSync(schedulePath);

  const duckdb = loadDuckDB();
  const options = process.env.DUCKDB_THREADS ? { threads: String(process.env.DUCKDB_THREADS) } : undefined;
  const instance = await duckdb.DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  try {
    const settings = (await connection.runAndReadAll(
      "SELECT version(), current_setting('threads')")).getRowsJS()[0];

    const loadMs = {};
    let t0 = performance.now();
    await connection.run(
      `CREATE TABLE box AS SELECT * FROM read_csv_auto(${sqlString(csvPath)}, ` +
      `header = true, types = {'player_id': 'VARCHAR', 'game_id': 'VARCHAR'})`);
    loadMs.box = performance.now() - t0;
    const loaded = Number((await connection.runAndReadAll('SELECT COUNT(*) FROM box')).getRowsJS()[0][0]);
    let scheduleRows = 0;
    if (haveSchedule) {
      t0 = performance.now();
      await connection.run(
        `CREATE TABLE schedule AS SELECT * FROM read_csv_auto(${sqlString(schedulePath)}, header = true, ` +
        `types = {'game_id': 'VARCHAR', 'game_date': 'DATE', 'status': 'VARCHAR', 'home_points': 'BIGINT', ` +
        `'away_points': 'BIGINT'})`);
      loadMs.schedule = performance.now() - t0;
      scheduleRows = Number((await connection.runAndReadAll('SELECT COUNT(*) FROM schedule')).getRowsJS()[0][0]);
    }

    console.log(`duckdb ${settings[0]} (@duckdb/node-api, threads=${settings[1]}), in-memory`);
    console.log(`csv: ${csvPath} (${loaded} box-score rows)`);
    console.log(haveSchedule ? `schedule: ${schedulePath} (${scheduleRows} games)`
                             : `schedule: none at ${schedulePath}: team_defense_zone_analysis skipped`);
    console.log(`load time ms (read_csv_auto -> table): box ${ms(loadMs.box)}` +
                (haveSchedule ? `, schedule ${ms(loadMs.schedule)}` : ''));

    const results = {};
    for (const p of PROCESSORS) {
      if (p.tables.includes('schedule') && !haveSchedule) {
        results[p.name] = { skipped: 'no schedule.csv next to the box scores' };
        continue;
      }
      // The query, materialized through aggregates over all its columns.
      const queryTimes = [];
      let agg;
      for (let i = 0; i < RUNS; ++i) {
        t0 = performance.now();
        const reader = await connection.runAndReadAll(timedSql(p));
        queryTimes.push(performance.now() - t0);
        agg = reader.getRowObjectsJS()[0];
      }
      // The same query with every row brought into JS (closer to "produce the table").
      const fetchTimes = [];
      let fetched = 0;
      for (let i = 0; i < RUNS; ++i) {
        t0 = performance.now();
        const reader = await connection.runAndReadAll(p.sql);
        fetched = reader.getRows().length;
        fetchTimes.push(performance.now() - t0);
      }
      const rows = Number(agg.n);
      if (fetched !== rows) throw new Error(`${p.name}: row count mismatch: aggregate ${rows}, fetched ${fetched}`);
      const checksum = Math.round(Number(agg[`s${p.values.indexOf(p.checksum)}`]) * 1000) / 1000;
      const out = process.env[p.out];
      if (out) {
        const cols = p.keys.map((k) => (k === 'game_date' ? `strftime(game_date, '%Y-%m-%d') AS game_date` : k))
          .concat(p.values).join(', ');
        await connection.run(`COPY (SELECT ${cols} FROM (${p.sql})) TO ${sqlString(out)} (FORMAT csv, HEADER true)`);
      }
      const load = p.tables.reduce((s, t) => s + loadMs[t], 0);
      results[p.name] = {
        rows, load_ms: ms(load), query_ms_median: ms(median(queryTimes)), fetch_ms_median: ms(median(fetchTimes)),
        checksum, checksum_column: p.checksum,
      };
      console.log(`-- ${p.name}`);
      console.log(`rows computed (${p.what}): ${rows}`);
      console.log(`query time ms, median of ${RUNS} (aggregated): ${ms(median(queryTimes))}` +
                  `  [runs: ${queryTimes.map(ms).join(', ')}]`);
      console.log(`query + fetch all rows to JS ms, median of ${RUNS}: ${ms(median(fetchTimes))}`);
      console.log(`checksum sum(${p.checksum}): ${checksum.toFixed(3)}`);
    }

    const daily = results.player_daily_cache;
    console.log(JSON.stringify({
      engine: 'duckdb',
      // player_daily_cache, under the names the peer script has always read
      rows: daily.rows,
      load_ms: ms(loadMs.box),
      query_ms_median: daily.query_ms_median,
      checksum_l10: daily.checksum,
      load_ms_by_table: Object.fromEntries(Object.entries(loadMs).map(([k, v]) => [k, ms(v)])),
      processors: results,
    }));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

main().catch((err) => {
  console.error(`duckdb_daily_cache: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
