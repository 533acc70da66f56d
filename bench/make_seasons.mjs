// Test data for the peer benchmark at N times the rows: N seasons made from one bundled season.
//
// Copy k (k = 0 .. N-1) is the source season shifted back by k * 364 days (52 weeks, so every date
// keeps its weekday) in every date and timestamp column of every file, with each game id's season
// digits lowered by k ('0022301186' -> '0022201186' for k = 1). Player ids and names stay the same
// (the same players every season). Seasons split on 1 September (SeasonStart, pipeline/partition.cc);
// a source season spans October..June, and each copy drifts 1.25 days a year against the calendar,
// so every copy stays inside its own September..August season (checked below, not assumed).
//
// Usage: node bench/make_seasons.mjs --scale N [--from DIR] --out DIR
//   --from   the source season (default data/2023-24 under the repo root)
//   --out    created if missing; must be empty. Writes:
//              import/players.csv               the registry seed, once, unchanged (birth dates are
//                                               the players', not the season's, so they are not shifted)
//              import/<season>/<file>.csv       every other source file, one directory per copy
//              duckdb/box_scores.csv            all copies' box scores in one file (one header)
//              duckdb/schedule.csv              all copies' schedules in one file
//              seasons.txt                      per copy, oldest first: "<season> <first date> <last date>",
//                                               the first and last game date (schedule or box scores)
// Copy 0 is byte-identical to the source (checked). Standard library only.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');

function die(msg) {
  console.error(`make_seasons: ${msg}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { scale: null, from: path.join(repoRoot, 'data', '2023-24'), out: null };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) die(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--scale') o.scale = next();
    else if (a === '--from') o.from = path.resolve(next());
    else if (a === '--out') o.out = path.resolve(next());
    else die(`unknown argument '${a}' (usage: --scale N [--from DIR] --out DIR)`);
  }
  if (!/^[1-9][0-9]*$/.test(o.scale ?? '')) die('--scale N (a whole number >= 1) is required');
  o.scale = Number(o.scale);
  if (!o.out) die('--out DIR is required');
  return o;
}

// RFC 4180: fields separated by commas, quoted when they hold a comma, quote or line break.
function parseCsv(text, file) {
  const rows = [];
  let row = [], field = '', i = 0, quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; ++i; continue;
      }
      field += c; ++i; continue;
    }
    if (c === '"' && field === '') { quoted = true; ++i; continue; }
    if (c === ',') { row.push(field); field = ''; ++i; continue; }
    if (c === '\n' || c === '\r') {
      row.push(field); rows.push(row); row = []; field = '';
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += c; ++i;
  }
  if (quoted) die(`${file}: unterminated quoted field`);
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}
const csvField = (f) => (/[",\r\n]/.test(f) ? `"${f.replaceAll('"', '""')}"` : f);
const csvLine = (fields) => fields.map(csvField).join(',') + '\n';

const DAY_MS = 86400000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const STAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);

function shiftDate(v, days, where) {
  if (v === '') return v;
  if (!DATE_RE.test(v) || iso(Date.parse(v + 'T00:00:00Z')) !== v) die(`${where}: '${v}' is not a YYYY-MM-DD date`);
  return iso(Date.parse(v + 'T00:00:00Z') - days * DAY_MS);
}
function shiftStamp(v, days, where) {
  if (v === '') return v;
  if (!STAMP_RE.test(v)) die(`${where}: '${v}' is not a YYYY-MM-DDTHH:MM:SSZ timestamp`);
  return new Date(Date.parse(v) - days * DAY_MS).toISOString().replace('.000Z', 'Z');
}
// NBA game ids: '002' + two season digits + five game digits ('0022301186': 2023-24).
function shiftGameId(v, k, where) {
  const m = /^(\d{3})(\d{2})(\d{5})$/.exec(v);
  if (!m) die(`${where}: game id '${v}' is not a 10-digit NBA id`);
  const yy = Number(m[2]) - k;
  if (yy < 0) die(`${where}: game id '${v}' has no season digits left for copy ${k}`);
  return m[1] + String(yy).padStart(2, '0') + m[3];
}

// What a column holds, by its header: a date, a UTC timestamp, a game id, or anything else.
function columnKind(name, file) {
  if (name === 'game_id') return 'game_id';
  if (/_utc$/.test(name)) return 'stamp';
  if (/(^|_)date$/.test(name)) return 'date';
  if (/(^|_)(at|time|timestamp|id)$/.test(name) && name !== 'player_id') {
    die(`${file}: column '${name}' looks like a date or an id this generator does not know how to shift`);
  }
  return 'keep';
}

// The first day of the season holding an ISO date: 1 September (pipeline/partition.cc).
function seasonOf(d) {
  const y = Number(d.slice(0, 4)), m = Number(d.slice(5, 7));
  return m < 9 ? y - 1 : y;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(o.from) || !fs.statSync(o.from).isDirectory()) die(`--from ${o.from}: not a directory`);
  fs.mkdirSync(o.out, { recursive: true });
  if (fs.readdirSync(o.out).length) die(`--out ${o.out} is not empty`);
  const files = fs.readdirSync(o.from).filter((f) => f.endsWith('.csv')).sort();
  for (const need of ['box_scores.csv', 'schedule.csv']) {
    if (!files.includes(need)) die(`${o.from} has no ${need}`);
  }
  const importDir = path.join(o.out, 'import'), duckDir = path.join(o.out, 'duckdb');
  fs.mkdirSync(importDir);
  fs.mkdirSync(duckDir);

  const sources = {};
  for (const f of files) {
    const text = fs.readFileSync(path.join(o.from, f), 'utf8');
    const rows = parseCsv(text, f);
    if (!rows.length) die(`${f}: empty`);
    const header = rows[0];
    const body = rows.slice(1);
    body.forEach((r, i) => {
      if (r.length !== header.length) die(`${f}:${i + 2}: ${r.length} fields, header has ${header.length}`);
    });
    // Copy 0 must come out as the input: the parser and writer lose nothing.
    if (rows.map(csvLine).join('') !== text) die(`${f}: does not re-serialize byte-identically (CRLF? odd quoting?)`);
    sources[f] = { text, header, body, kinds: header.map((h) => columnKind(h, f)) };
  }
  fs.writeFileSync(path.join(importDir, 'players.csv'), sources['players.csv']?.text ?? '');
  if (!sources['players.csv']) fs.rmSync(path.join(importDir, 'players.csv'));

  const concat = { 'box_scores.csv': [csvLine(sources['box_scores.csv'].header)],
                   'schedule.csv': [csvLine(sources['schedule.csv'].header)] };
  const seasons = [];
  const srcSeasons = new Set();
  for (const f of ['box_scores.csv', 'schedule.csv']) {
    const s = sources[f];
    const c = s.header.indexOf('game_date');
    for (const r of s.body) srcSeasons.add(seasonOf(r[c]));
  }
  if (srcSeasons.size !== 1) die(`${o.from}: game dates span ${srcSeasons.size} seasons, expected one`);
  const gameIds = new Set();
  for (let k = 0; k < o.scale; ++k) {
    const days = k * 364;
    let first = null, last = null, season = null;
    const lines = {};
    for (const f of files) {
      if (f === 'players.csv') continue;
      const s = sources[f];
      const out = [csvLine(s.header)];
      for (let i = 0; i < s.body.length; ++i) {
        const where = `${f}:${i + 2}`;
        const r = s.body[i].map((v, j) => {
          switch (s.kinds[j]) {
            case 'date': return shiftDate(v, days, where);
            case 'stamp': return shiftStamp(v, days, where);
            case 'game_id': return shiftGameId(v, k, where);
            default: return v;
          }
        });
        if (f === 'box_scores.csv' || f === 'schedule.csv') {
          const d = r[s.header.indexOf('game_date')];
          const sd = seasonOf(d);
          if (season === null) season = sd;
          if (sd !== season) die(`copy ${k}: ${where} game date ${d} falls in another season than ${season}`);
          if (first === null || d < first) first = d;
          if (last === null || d > last) last = d;
          if (f === 'schedule.csv') {
            const id = r[s.header.indexOf('game_id')];
            if (gameIds.has(id)) die(`copy ${k}: game id ${id} already used`);
            gameIds.add(id);
          }
        }
        out.push(csvLine(r));
      }
      lines[f] = out;
    }
    if (seasons.some((x) => x.season === season)) die(`copy ${k} lands in season ${season}, already taken`);
    const name = `${season}-${String((season + 1) % 100).padStart(2, '0')}`;
    const dir = path.join(importDir, name);
    fs.mkdirSync(dir);
    for (const [f, out] of Object.entries(lines)) {
      const text = out.join('');
      if (k === 0 && text !== sources[f].text) die(`copy 0 of ${f} differs from the source`);
      fs.writeFileSync(path.join(dir, f), text);
      if (concat[f]) concat[f].push(...out.slice(1));
    }
    seasons.push({ season, name, first, last });
  }
  for (const [f, out] of Object.entries(concat)) fs.writeFileSync(path.join(duckDir, f), out.join(''));
  seasons.sort((a, b) => a.season - b.season);
  fs.writeFileSync(path.join(o.out, 'seasons.txt'), seasons.map((s) => `${s.name} ${s.first} ${s.last}\n`).join(''));
  const boxRows = concat['box_scores.csv'].length - 1, games = concat['schedule.csv'].length - 1;
  console.log(`make_seasons: ${o.scale} season(s) ${seasons[0].name} .. ${seasons.at(-1).name} from ${o.from}: ` +
              `${games} games, ${boxRows} box-score rows -> ${o.out}`);
}

main();
