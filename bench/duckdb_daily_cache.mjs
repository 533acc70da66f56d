// Peer benchmark: the player_daily_cache rolling points statistics as one DuckDB window query.
//
// For every box-score row with minutes > 0 it computes, over the same player's earlier games with
// minutes > 0 in the same season ("as of before the game"): pts_avg_l3, pts_avg_l5, pts_avg_l10,
// pts_avg_season, pts_std_l10 (sample, NULL under 2 games), minutes_avg_l10 and games_season.
//
// Usage: node bench/duckdb_daily_cache.mjs [box_scores.csv]
//   default CSV: data/2023-24/box_scores.csv under the repo root (this file's parent directory).
//   DUCKDB_PEER_PREFIX  npm prefix holding @duckdb/node-api (default: bench/.duckdb-peer next to this file)
//   DUCKDB_PEER_OUT     if set, also writes the per-row results there as CSV (untimed, after the runs)
//   DUCKDB_THREADS      DuckDB worker threads (default: DuckDB's own, i.e. all cores)
// Normally run through bench/daily_cache_peer.sh, which installs the package first.

import { createRequire } from 'node:module';
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

// Player key: the NBA person id; the few rows without one (source nba_com) fall back to the name.
// Season: starts on August 1st, like SeasonStart() in pipeline/partition.cc.
// ROWS ... AND 1 PRECEDING excludes the current game: each row sees only earlier games (there is
// at most one game per player and date, so that is "strictly before the game date").
const ROLLING_SQL = `
  WITH played AS (
    SELECT COALESCE(NULLIF(CAST(player_id AS VARCHAR), ''), 'name:' || player_name) AS player_key,
           game_id, game_date, minutes, points,
           CASE WHEN month(game_date) < 8 THEN year(game_date) - 1 ELSE year(game_date) END AS season
    FROM box
    WHERE minutes > 0
  )
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

// Every output column feeds an aggregate, so no window can be pruned by the optimizer and all of
// them are computed for every row.
const TIMED_SQL = `
  WITH r AS (${ROLLING_SQL})
  SELECT COUNT(*) AS n,
         SUM(pts_avg_l3) AS s3, SUM(pts_avg_l5) AS s5, SUM(pts_avg_l10) AS s10,
         SUM(pts_avg_season) AS sseason, SUM(pts_std_l10) AS sstd, SUM(minutes_avg_l10) AS smin,
         SUM(games_season) AS sgames
  FROM r`;

async function main() {
  const csvArg = process.argv[2];
  const csvPath = csvArg ? path.resolve(csvArg) : path.join(repoRoot, 'data', '2023-24', 'box_scores.csv');

  const duckdb = loadDuckDB();
  const options = process.env.DUCKDB_THREADS ? { threads: String(process.env.DUCKDB_THREADS) } : undefined;
  const instance = await duckdb.DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  try {
    const settings = (await connection.runAndReadAll(
      "SELECT version(), current_setting('threads')")).getRowsJS()[0];

    let t0 = performance.now();
    await connection.run(
      `CREATE TABLE box AS SELECT * FROM read_csv_auto(${sqlString(csvPath)}, ` +
      `header = true, types = {'player_id': 'VARCHAR', 'game_id': 'VARCHAR'})`);
    const loadMs = performance.now() - t0;
    const loaded = Number((await connection.runAndReadAll('SELECT COUNT(*) FROM box')).getRowsJS()[0][0]);

    // The window query, materialized through aggregates over all its columns.
    const queryTimes = [];
    let result;
    for (let i = 0; i < RUNS; ++i) {
      t0 = performance.now();
      const reader = await connection.runAndReadAll(TIMED_SQL);
      queryTimes.push(performance.now() - t0);
      result = reader.getRowObjectsJS()[0];
    }

    // The same query with every row brought into JS (closer to "produce the table").
    const fetchTimes = [];
    let fetched = 0;
    for (let i = 0; i < RUNS; ++i) {
      t0 = performance.now();
      const reader = await connection.runAndReadAll(ROLLING_SQL);
      fetched = reader.getRows().length;
      fetchTimes.push(performance.now() - t0);
    }

    const rows = Number(result.n);
    const checksum = Math.round(Number(result.s10) * 1000) / 1000;
    if (fetched !== rows) throw new Error(`row count mismatch: aggregate ${rows}, fetched ${fetched}`);

    if (process.env.DUCKDB_PEER_OUT) {
      await connection.run(
        `COPY (SELECT player_key, strftime(game_date, '%Y-%m-%d') AS game_date, game_id, pts_avg_l3, ` +
        `pts_avg_l5, pts_avg_l10, pts_avg_season, pts_std_l10, minutes_avg_l10, games_season ` +
        `FROM (${ROLLING_SQL})) TO ${sqlString(process.env.DUCKDB_PEER_OUT)} (FORMAT csv, HEADER true)`);
    }

    console.log(`duckdb ${settings[0]} (@duckdb/node-api, threads=${settings[1]}), in-memory`);
    console.log(`csv: ${csvPath} (${loaded} box-score rows)`);
    console.log(`rows computed (player-games with minutes > 0): ${rows}`);
    console.log(`load time ms (read_csv_auto -> table): ${ms(loadMs)}`);
    console.log(`query time ms, median of ${RUNS} (window query, aggregated): ${ms(median(queryTimes))}` +
                `  [runs: ${queryTimes.map(ms).join(', ')}]`);
    console.log(`query + fetch all rows to JS ms, median of ${RUNS}: ${ms(median(fetchTimes))}`);
    console.log(`checksum sum(pts_avg_l10): ${checksum.toFixed(3)}`);
    console.log(JSON.stringify({
      engine: 'duckdb',
      rows,
      load_ms: ms(loadMs),
      query_ms_median: ms(median(queryTimes)),
      checksum_l10: checksum,
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
