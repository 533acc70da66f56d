#!/usr/bin/env python3
"""Build the bundled real 2023-24 season (data/2023-24/) from ../shared/data.

Python 3 standard library only. Re-running on the same inputs gives byte-identical
output (rows are sorted, no timestamps of the run are written).

Inputs (read-only, below --shared):
  DhirenShivdasani__NBA-player-prop-analysis/raw_head/all_data.csv          box scores (nba_api)
  DhirenShivdasani__NBA-player-prop-analysis/raw_head/NBA_Player_IDs.csv    player cross-walk
  DhirenShivdasani__NBA-player-prop-analysis/derived/rotowire_points_props_open_close_2024.csv
  DhirenShivdasani__NBA-player-prop-analysis/derived/underdog_injury_snapshots_2024.csv
  Ebube45__NBA-BoxScores-2023-Season/nba_player_boxscores_2023-2024.csv     box scores (nba.com)
  kyleskom__NBA-Machine-Learning-Sports-Betting/Data/nba-2023-UTC.csv       tip-off times (UTC)
  kyleskom__NBA-Machine-Learning-Sports-Betting/derived_csv/odds_2023-24.csv closing lines + scores

Outputs (below --out): schedule.csv, box_scores.csv, player_points_props.csv,
injuries.csv, game_lines.csv, players.csv.  See data/README.md.

Usage: python3 tools/build_season.py [--shared DIR] [--out DIR]
"""

import argparse
import collections
import csv
import datetime as dt
import os
import re
import sys
import unicodedata
from decimal import Decimal, InvalidOperation

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DHIREN = "DhirenShivdasani__NBA-player-prop-analysis"
EBUBE = "Ebube45__NBA-BoxScores-2023-Season"
KYLE = "kyleskom__NBA-Machine-Learning-Sports-Betting"

IN_ALL_DATA = (DHIREN, "raw_head", "all_data.csv")
IN_XWALK = (DHIREN, "raw_head", "NBA_Player_IDs.csv")
IN_PROPS = (DHIREN, "derived", "rotowire_points_props_open_close_2024.csv")
IN_INJURIES = (DHIREN, "derived", "underdog_injury_snapshots_2024.csv")
IN_EBUBE = (EBUBE, "nba_player_boxscores_2023-2024.csv")
IN_TIPOFF = (KYLE, "Data", "nba-2023-UTC.csv")
IN_ODDS = (KYLE, "derived_csv", "odds_2023-24.csv")

# --------------------------------------------------------------------------- teams

TEAMS = (
    "ATL BOS BKN CHA CHI CLE DAL DEN DET GSW HOU IND LAC LAL MEM MIA MIL MIN NOP NYK "
    "OKC ORL PHI PHX POR SAC SAS TOR UTA WAS"
).split()

TEAM_NAMES = {
    "Atlanta Hawks": "ATL",
    "Boston Celtics": "BOS",
    "Brooklyn Nets": "BKN",
    "Charlotte Hornets": "CHA",
    "Chicago Bulls": "CHI",
    "Cleveland Cavaliers": "CLE",
    "Dallas Mavericks": "DAL",
    "Denver Nuggets": "DEN",
    "Detroit Pistons": "DET",
    "Golden State Warriors": "GSW",
    "Houston Rockets": "HOU",
    "Indiana Pacers": "IND",
    "LA Clippers": "LAC",
    "Los Angeles Clippers": "LAC",
    "Los Angeles Lakers": "LAL",
    "Memphis Grizzlies": "MEM",
    "Miami Heat": "MIA",
    "Milwaukee Bucks": "MIL",
    "Minnesota Timberwolves": "MIN",
    "New Orleans Pelicans": "NOP",
    "New York Knicks": "NYK",
    "Oklahoma City Thunder": "OKC",
    "Orlando Magic": "ORL",
    "Philadelphia 76ers": "PHI",
    "Phoenix Suns": "PHX",
    "Portland Trail Blazers": "POR",
    "Sacramento Kings": "SAC",
    "San Antonio Spurs": "SAS",
    "Toronto Raptors": "TOR",
    "Utah Jazz": "UTA",
    "Washington Wizards": "WAS",
}


class DataError(Exception):
    pass


def team_code(value, where):
    """Map a team code or full name to one of the 30 codes; fail loudly otherwise."""
    v = value.strip()
    if v in TEAMS:
        return v
    if v in TEAM_NAMES:
        return TEAM_NAMES[v]
    raise DataError("unknown team %r in %s" % (value, where))


def is_team(value):
    v = value.strip()
    return v in TEAMS or v in TEAM_NAMES


# --------------------------------------------------------------------------- helpers

SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


def name_key(name):
    """lowercase, ASCII-folded, . ' - removed, jr/sr/ii/iii/iv removed, spaces collapsed."""
    s = unicodedata.normalize("NFKD", name)
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[.'\-]", "", s)
    toks = s.replace(",", " ").split()
    while toks and toks[-1] in SUFFIXES:
        toks.pop()
    return " ".join(toks)


def read_csv(shared, parts):
    path = os.path.join(shared, *parts)
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(out_dir, name, header, rows):
    path = os.path.join(out_dir, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        for r in rows:
            if len(r) != len(header):
                raise DataError("%s: row has %d fields, header %d" % (name, len(r), len(header)))
            w.writerow(["" if v is None else v for v in r])
    os.replace(tmp, path)
    return path


# The header of every bundle file (data/README.md describes each column).
HEADERS = {
    "schedule.csv": ["game_id", "game_date", "tipoff_utc", "home_team", "away_team", "status",
                     "home_points", "away_points", "original_game_date", "source"],
    "box_scores.csv": ["game_id", "game_date", "team", "opponent", "home_away", "player_id",
                       "player_name", "minutes", "points", "fgm", "fga", "fg3m", "fg3a", "ftm",
                       "fta", "oreb", "dreb", "reb", "ast", "stl", "blk", "tov", "pf",
                       "plus_minus", "source"],
    "player_points_props.csv": ["captured_at_utc", "game_date", "player_name", "team", "opponent",
                                "home_away", "sportsbook", "line", "over_price", "under_price",
                                "snapshot", "source"],
    "injuries.csv": ["captured_at_utc", "last_seen_utc", "report_date", "team", "player_name",
                     "status", "details", "source"],
    "game_lines.csv": ["game_date", "captured_at_utc", "home_team", "away_team", "sportsbook",
                       "spread_home", "total", "home_price", "away_price", "source"],
    "players.csv": ["player_id", "player_name", "alt_names", "birth_date"],
}


def write_files(out_dir, files):
    """Write each (file name, rows) with its header from HEADERS, and say what was written."""
    for name, rows in files:
        path = write_csv(out_dir, name, HEADERS[name], rows)
        print("wrote %s (%d rows, %d bytes)" % (os.path.relpath(path, REPO_ROOT), len(rows),
                                               os.path.getsize(path)))


def num(s):
    """Normalize a decimal string: '229.0' -> '229', '-5.50' -> '-5.5', '-0' -> '0'."""
    s = s.strip()
    if s == "":
        return ""
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise DataError("not a number: %r" % s)
    if d == 0:
        return "0"
    t = format(d.normalize(), "f")
    return t


def neg(s):
    return num(str(-Decimal(s)))


def parse_all_data_date(s):  # "APR 14, 2024"
    return dt.datetime.strptime(s.strip().title(), "%b %d, %Y").date()


def parse_mdy(s):  # "04/07/2024" or "4/7/2024"
    return dt.datetime.strptime(s.strip(), "%m/%d/%Y").date()


def pct(a, b):
    return "%.1f%%" % (100.0 * a / b) if b else "n/a"


# US Eastern time (America/New_York) with the post-2007 US DST rules:
# DST from the 2nd Sunday of March 02:00 EST (07:00 UTC) to the 1st Sunday of
# November 02:00 EDT (06:00 UTC).
def _nth_sunday(year, month, n):
    d = dt.date(year, month, 1)
    d += dt.timedelta(days=(6 - d.weekday()) % 7)  # first Sunday
    return d + dt.timedelta(weeks=n - 1)


def utc_to_eastern(t):
    y = t.year
    start = dt.datetime.combine(_nth_sunday(y, 3, 2), dt.time(7, 0))
    end = dt.datetime.combine(_nth_sunday(y, 11, 1), dt.time(6, 0))
    offset = -4 if start <= t < end else -5
    return t + dt.timedelta(hours=offset)


def iso_utc(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- box scores


def load_all_data(shared):
    rows = read_csv(shared, IN_ALL_DATA)
    games = {}  # game_id -> dict(date, home, away)
    for r in rows:
        gid = r["Game_ID"].strip()
        if not re.fullmatch(r"002230\d{4}", gid):
            raise DataError("all_data: unexpected Game_ID %r" % gid)
        d = parse_all_data_date(r["GAME_DATE"])
        home = team_code(r["Home"], "all_data Home")
        away = team_code(r["Away"], "all_data Away")
        team = team_code(r["Team"], "all_data Team")
        m = re.fullmatch(r"([A-Z]{3}) (vs\.|@) ([A-Z]{3})", r["MATCHUP"].strip())
        if not m or m.group(1) != team:
            raise DataError("all_data: bad MATCHUP %r for %s" % (r["MATCHUP"], team))
        is_home = m.group(2) == "vs."
        if (home, away) != ((team, m.group(3)) if is_home else (m.group(3), team)):
            raise DataError("all_data: MATCHUP %r disagrees with Home/Away" % r["MATCHUP"])
        g = games.setdefault(gid, {"date": d, "home": home, "away": away})
        if (g["date"], g["home"], g["away"]) != (d, home, away):
            raise DataError("all_data: game %s has inconsistent date/teams" % gid)
        r["_date"], r["_team"], r["_home"] = d, team, is_home
    return rows, games


def build_box_scores(shared, all_rows, games, log):
    by_date_team = {}
    for gid, g in games.items():
        for t in (g["home"], g["away"]):
            k = (g["date"], t)
            if k in by_date_team:
                raise DataError("two games for %s on %s" % (t, g["date"]))
            by_date_team[k] = gid

    out = []
    have = set()
    for r in all_rows:
        gid = r["Game_ID"].strip()
        g = games[gid]
        team = r["_team"]
        opp = g["away"] if r["_home"] else g["home"]
        have.add((r["_date"], team, name_key(r["PlayerName"])))
        out.append([
            gid, r["_date"].isoformat(), team, opp, "home" if r["_home"] else "away",
            r["Player_ID"].strip(), r["PlayerName"].strip(), r["MIN"].strip(), r["PTS"].strip(),
            r["FGM"], r["FGA"], r["FG3M"], r["FG3A"], r["FTM"], r["FTA"],
            r["OREB"], r["DREB"], r["REB"], r["AST"], r["STL"], r["BLK"], r["TOV"], r["PF"],
            r["PLUS_MINUS"], "nba_api",
        ])

    # Second source: add only player-games missing from all_data.
    eb = read_csv(shared, IN_EBUBE)
    matched = agree = 0
    disagree = []
    added = []
    seen = set()
    for e in eb:
        d = parse_mdy(e["Date"])
        team = team_code(e["Team"], "Ebube Team")
        m = re.fullmatch(r"([A-Z]{3}) (vs\.|@) ([A-Z]{3})", e["Opponent"].strip())
        if not m or m.group(1) != team:
            raise DataError("Ebube: bad matchup %r for %s" % (e["Opponent"], team))
        is_home = m.group(2) == "vs."
        opp = team_code(m.group(3), "Ebube matchup")
        k = (d, team, name_key(e["Player"]))
        if k in seen:
            raise DataError("Ebube: duplicate player-game %r" % (k,))
        seen.add(k)
        if k in have:
            matched += 1
            continue
        gid = by_date_team.get((d, team))
        if gid is None:
            raise DataError("Ebube: no all_data game for %s on %s (%s)" % (team, d, e["Player"]))
        g = games[gid]
        if (g["home"], g["away"]) != ((team, opp) if is_home else (opp, team)):
            raise DataError("Ebube: matchup %r disagrees with game %s" % (e["Opponent"], gid))
        added.append(e)
        out.append([
            gid, d.isoformat(), team, opp, "home" if is_home else "away",
            "", e["Player"].strip(), e["Minutes"].strip(), e["Points"].strip(),
            e["FGM"], e["FGA"], e["3PM"], e["3PA"], e["FTM"], e["FTA"],
            e["OREB"], e["DREB"], e["REB"], e["AST"], e["STL"], e["BLK"], e["TO"], e["PF"],
            e["+/-"], "nba_com",
        ])

    # points agreement on matched rows
    pts_all = {(r["_date"], r["_team"], name_key(r["PlayerName"])): r["PTS"].strip() for r in all_rows}
    for e in eb:
        k = (parse_mdy(e["Date"]), e["Team"].strip(), name_key(e["Player"]))
        if k in pts_all:
            if pts_all[k] == e["Points"].strip():
                agree += 1
            else:
                disagree.append((k, pts_all[k], e["Points"]))

    for row in out:
        for i in range(7, 24):
            if not re.fullmatch(r"-?\d+", row[i].strip()):
                raise DataError("box score: non-integer %r in column %d (%s)" % (row[i], i, row[6]))
            row[i] = row[i].strip()

    out.sort(key=lambda r: (r[1], r[0], r[2], r[6], r[5]))
    src = collections.Counter(r[24] for r in out)
    log("box_scores: %d rows (nba_api %d, nba_com %d)" % (len(out), src["nba_api"], src["nba_com"]))
    log("  Ebube rows: %d; matched all_data on (date, team, name key): %d; unmatched (added): %d"
        % (len(eb), matched, len(added)))
    log("  points agreement on matched rows: %d / %d (%s)%s" % (
        agree, matched, pct(agree, matched),
        "" if not disagree else "; first disagreements: %r" % disagree[:5]))
    log("  added: %d player-games, %d distinct players, %d team-games"
        % (len(added), len({name_key(e["Player"]) for e in added}),
           len({(e["Date"], e["Team"]) for e in added})))
    return out, added


# --------------------------------------------------------------------------- schedule / lines


def build_schedule_and_lines(shared, games, log):
    # tip-off times
    sched = read_csv(shared, IN_TIPOFF)
    tip_by_key = {}
    for s in sched:
        t = dt.datetime.strptime(s["Date"].strip(), "%d/%m/%Y %H:%M")
        et = utc_to_eastern(t)
        home = team_code(s["Home Team"], "tip-off Home Team")
        away = team_code(s["Away Team"], "tip-off Away Team")
        k = (et.date(), home, away)
        if k in tip_by_key:
            raise DataError("tip-off: duplicate game %r" % (k,))
        tip_by_key[k] = {"utc": t, "et": et, "match": int(s["Match Number"]), "used": False}

    by_key = {(g["date"], g["home"], g["away"]): gid for gid, g in games.items()}
    tipoff = {}
    for k, gid in by_key.items():
        s = tip_by_key.get(k)
        if s is not None:
            tipoff[gid] = s
            s["used"] = True
    # postponed / moved games: an all_data game with no tip-off match, and exactly one
    # unused schedule entry with the same home/away whose Match Number equals the game
    # number (from game 258 on, the schedule's Match Number is the game id's sequence
    # number; ids 0001-0060 went to the In-Season Tournament group games).  The tip-off
    # time of the original date is not attached.
    original = {}
    unused = [(k, s) for k, s in tip_by_key.items() if not s["used"]]
    for gid, g in sorted(games.items()):
        if gid in tipoff:
            continue
        cands = [(k, s) for k, s in unused if k[1] == g["home"] and k[2] == g["away"]]
        if len(cands) == 1 and cands[0][1]["match"] == int(gid[-4:]):
            original[gid] = cands[0][0][0]
            cands[0][1]["used"] = True
    match_number_mismatch = sum(1 for gid, s in tipoff.items() if s["match"] != int(gid[-4:]))
    still_unused = sorted(k for k, s in tip_by_key.items() if not s["used"])
    et_hours = collections.Counter(s["et"].strftime("%H:%M") for s in tipoff.values())
    early = [(gid, s["et"]) for gid, s in tipoff.items() if not (12 <= s["et"].hour <= 22)]

    # closing odds + final scores (regular-season games of all_data only)
    odds = read_csv(shared, IN_ODDS)
    score = {}
    lines = []
    skipped_odds = []
    seen_odds = set()
    zero_scores = []
    for o in odds:
        d = dt.date.fromisoformat(o["Date"].strip())
        home = team_code(o["Home"], "odds Home")
        away = team_code(o["Away"], "odds Away")
        gid = by_key.get((d, home, away))
        if gid is None:
            skipped_odds.append((d, home, away))
            continue
        if gid in seen_odds:
            raise DataError("odds: duplicate row for %s" % gid)
        seen_odds.add(gid)
        p, w = int(o["Points"]), int(o["Win_Margin"])
        if p == 0 and w == 0:
            # placeholder for a game not yet played when the table was committed
            zero_scores.append(gid)
        else:
            if (p + w) % 2 or p <= 0 or abs(w) >= p:
                raise DataError("odds: inconsistent Points/Win_Margin for %s" % gid)
            score[gid] = ((p + w) // 2, (p - w) // 2)
        spread = o["Spread"].strip()
        lines.append([
            d.isoformat(), "", home, away, "consensus_close",
            neg(spread) if spread else "", num(o["OU"]),
            num(o["ML_Home"]), num(o["ML_Away"]), "kyleskom",
        ])
    lines.sort(key=lambda r: (r[0], r[2], r[3]))

    out = []
    for gid, g in games.items():
        s = tipoff.get(gid)
        hp, ap = score.get(gid, ("", ""))
        out.append([
            gid, g["date"].isoformat(), iso_utc(s["utc"]) if s else "",
            g["home"], g["away"], "final", str(hp), str(ap),
            original[gid].isoformat() if gid in original else "", "nba_api+kyleskom",
        ])
    out.sort(key=lambda r: (r[1], r[0]))

    n = len(games)
    log("schedule: %d games (%s .. %s)" % (n, min(r[1] for r in out), max(r[1] for r in out)))
    log("  tip-off times: %d / %d games (%s); schedule file has %d games "
        "(Match Number != game-id sequence for %d matched games, the early-season ids)"
        % (len(tipoff), n, pct(len(tipoff), n), len(sched), match_number_mismatch))
    no_tip = sorted(gid for gid in games if gid not in tipoff)
    log("  without tip-off: %d (ids %s)" % (len(no_tip), ", ".join(no_tip)))
    for gid in sorted(original):
        g = games[gid]
        log("  rescheduled: %s %s vs %s played %s, originally scheduled %s (tip-off left empty)"
            % (gid, g["home"], g["away"], g["date"], original[gid]))
    for d, h, a in still_unused:
        rev = by_key.get((d, a, h))
        log("  schedule entry matching no game: %s %s vs %s%s" % (
            d, h, a, "" if rev is None else
            " (all_data has %s with home/away reversed: %s vs %s; tip-off left empty)" % (rev, a, h)))
    log("  tip-off ET clock times: %s" % ", ".join("%s x%d" % kv for kv in sorted(et_hours.items())))
    if early:
        log("  WARNING tip-offs outside 12:00-22:59 ET: %r" % early)
    log("  final scores: %d / %d games (%s); odds rows not used: %d (%s)"
        % (len(score), n, pct(len(score), n), len(skipped_odds),
           ", ".join("%s %s-%s" % (d, h, a) for d, h, a in skipped_odds[:3]) + (" ..." if len(skipped_odds) > 3 else "")))
    if zero_scores:
        log("  odds rows with Points = Win_Margin = 0 (score not yet filled in; left empty): %s"
            % ", ".join(sorted(zero_scores)))
    no_score = sorted(gid for gid in games if gid not in score)
    log("  games without final score: %d (%d without any odds row, %d zero placeholders)"
        % (len(no_score), len(no_score) - len(zero_scores), len(zero_scores)))
    log("game_lines: %d rows (one consensus close per game with odds)" % len(lines))
    return out, lines, score


def check_scores_vs_boxes(box, score, log):
    sums = collections.Counter()
    for r in box:
        sums[(r[0], r[4])] += int(r[8])
    eq = lt = gt = 0
    for gid, (hp, ap) in score.items():
        for side, pts in (("home", hp), ("away", ap)):
            s = sums[(gid, side)]
            if s == pts:
                eq += 1
            elif s < pts:
                lt += 1
            else:
                gt += 1
    log("  score check vs merged box scores (team-games): equal %d, box sum lower %d, box sum higher %d"
        % (eq, lt, gt))


# --------------------------------------------------------------------------- props

PRICE_RE = r"[+-]?\d+"
LINE_RE = r"\d+(?:\.\d+)?"


def parse_prop_raw(raw):
    """Return (line, price) strings ('' when absent) or None when the book offered nothing."""
    s = raw.strip()
    if s in ("", "-", "(None) None"):
        return None
    m = re.fullmatch(r"\((%s)\)\s*(%s)?" % (LINE_RE, PRICE_RE), s)  # "(25.5) -105", "(9.5)"
    if m:
        return num(m.group(1)), num(m.group(2) or "")
    m = re.fullmatch(r"(%s)\s*\((%s)\)" % (LINE_RE, PRICE_RE), s)  # "10.5 (-110)"
    if m:
        return num(m.group(1)), num(m.group(2))
    m = re.fullmatch(PRICE_RE, s)  # "-115": odds only, no line
    if m:
        return "", num(s)
    raise DataError("props: cannot parse raw value %r" % raw)


BOOKS = {"draftkings": "draftkings", "fanduel": "fanduel", "mgm": "betmgm", "betmgm": "betmgm",
         "pointsbet": "pointsbet"}


def build_props(shared, log):
    rows = read_csv(shared, IN_PROPS)
    out = []
    stats = collections.Counter()
    for r in rows:
        book = BOOKS.get(r["book"].strip().lower())
        if book is None:
            raise DataError("props: unknown book %r" % r["book"])
        opp_raw = r["opp"].strip()
        opponent = team_code(opp_raw.lstrip("@"), "props opp") if opp_raw else ""
        ha = r["home_away"].strip().lower()
        if ha not in ("home", "away", ""):
            raise DataError("props: unknown home_away %r" % r["home_away"])
        if opp_raw and (opp_raw.startswith("@") != (ha == "away")):
            raise DataError("props: opp %r disagrees with home_away %r" % (opp_raw, ha))
        snaps = [("open", r["first_seen_utc"], "open_")]
        if r["last_seen_utc"].strip() != r["first_seen_utc"].strip():
            snaps.append(("close", r["last_seen_utc"], "close_"))
        else:
            stats["single_snapshot"] += 1
        for snap, ts, p in snaps:
            ts = ts.strip()
            if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ts):
                raise DataError("props: bad timestamp %r" % ts)
            over = parse_prop_raw(r[p + "over_raw"])
            under = parse_prop_raw(r[p + "under_raw"])
            if over is None and under is None:
                stats["skipped_not_offered"] += 1
                continue
            lo = over[0] if over else ""
            lu = under[0] if under else ""
            if lo and lu and lo != lu:
                raise DataError("props: over/under lines differ %r / %r" % (r[p + "over_raw"], r[p + "under_raw"]))
            line = lo or lu
            # cross-check with the file's own parsed columns where it has them
            if r[p + "line"].strip() and num(r[p + "line"]) != line:
                raise DataError("props: parsed line %r != raw %r" % (r[p + "line"], line))
            if not line:
                stats["odds_only"] += 1
            out.append([
                ts, r["snapshot_date_et"].strip(), r["player"].strip(), "", opponent, ha, book, line,
                over[1] if over else "", under[1] if under else "", snap, "rotowire",
            ])
    out.sort(key=lambda x: (x[1], x[2], x[6], x[4], x[0], x[10]))
    books = collections.Counter(x[6] for x in out)
    snaps = collections.Counter(x[10] for x in out)
    with_line = sum(1 for x in out if x[7])
    log("player_points_props: %d rows from %d input rows (open %d, close %d); %d with a line, %d odds-only (no line)"
        % (len(out), len(rows), snaps["open"], snaps["close"], with_line, stats["odds_only"]))
    log("  books: %s; snapshots not offered (skipped): %d; single-snapshot days (open only): %d"
        % (", ".join("%s %d" % kv for kv in sorted(books.items())), stats["skipped_not_offered"],
           stats["single_snapshot"]))
    log("  dates %s .. %s, %d players" % (min(x[1] for x in out), max(x[1] for x in out),
                                        len({x[2] for x in out})))
    return out


# --------------------------------------------------------------------------- injuries

DATE_STATUS_RE = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [A-Z][a-z]{2} \d{1,2}, \d{4}")


def build_injuries(shared, log):
    rows = read_csv(shared, IN_INJURIES)
    out = []
    swapped = dropped_header = 0
    for r in rows:
        team, player, status = r["team"].strip(), r["player"].strip(), r["status"].strip()
        if team == "Player" and player == "Team":
            dropped_header += 1  # a repeated header line scraped as data
            continue
        if not is_team(team) and is_team(player):
            # one scrape (2024-02-14T04:04Z) used a "Player,Team,Update" layout that was
            # read as team,player,status: swap back; the "status" is the update date.
            team, player = player, team
            if DATE_STATUS_RE.fullmatch(status):
                status = ""
            swapped += 1
        if DATE_STATUS_RE.fullmatch(status):
            raise DataError("injuries: status looks like a date: %r" % (r,))
        out.append([
            r["first_seen_utc"].strip(), r["last_seen_utc"].strip(), r["snapshot_date_et"].strip(),
            team_code(team, "injuries team"), player, status, r["details"].strip(),
            "underdog" if status else "basketball_reference",
        ])
    out.sort(key=lambda x: (x[2], x[0], x[3], x[4], x[5], x[6], x[1]))
    src = collections.Counter(x[7] for x in out)
    log("injuries: %d rows from %d input rows (underdog %d, basketball_reference %d); "
        "repaired swapped team/player rows: %d; dropped repeated header rows: %d"
        % (len(out), len(rows), src["underdog"], src["basketball_reference"], swapped, dropped_header))
    return out


# --------------------------------------------------------------------------- players


def clean_name(s):
    s = (s or "").strip()
    if not s or s == "NA" or "\ufffd" in s:  # cross-walk has U+FFFD where accents were lost
        return ""
    return re.sub(r"\s+", " ", s)


def parse_birth(s):
    s = (s or "").strip()
    try:
        return parse_mdy(s).isoformat()
    except ValueError:
        return ""


def build_players(shared, all_rows, ebube_rows, props, injuries, log):
    xw = read_csv(shared, IN_XWALK)
    by_id = collections.OrderedDict()
    no_id = 0
    for x in xw:
        pid = x["NBAID"].strip()
        if not pid or pid == "NA":
            no_id += 1
            continue
        if not pid.isdigit():
            raise DataError("cross-walk: bad NBAID %r" % pid)
        by_id.setdefault(pid, []).append(x)
    dup_ids = sorted(pid for pid, xs in by_id.items() if len(xs) > 1)

    # primary-name keys of every cross-walk / all_data player, to reject alt names that
    # are in fact another player's name (e.g. Spotrac 'Terence Davis' on Tyler Davis).
    primary_key_owner = collections.defaultdict(set)
    for pid, xs in by_id.items():
        for x in xs:
            n = clean_name(x["NBAName"]) or clean_name(x["BBRefName"])
            if n:
                primary_key_owner[name_key(n)].add(pid)
    all_names = {}
    for r in all_rows:
        all_names.setdefault(r["Player_ID"].strip(), r["PlayerName"].strip())
    for pid, n in all_names.items():
        primary_key_owner[name_key(n)].add(pid)

    def names_of(pid):
        ns = []
        for x in by_id[pid]:
            for c in ("NBAName", "BBRefName", "ESPNName", "SpotracName"):
                n = clean_name(x[c])
                if n and n not in ns:
                    ns.append(n)
        return ns

    def birth_of(pid):
        for x in by_id[pid]:
            for c in ("NBABirthDate", "BBRefBirthDate", "ESPNBirthDate"):
                b = parse_birth(x[c])
                if b:
                    return b
        return ""

    # names seen in the other 2023-24 inputs
    other_keys = set()
    for e in ebube_rows:
        other_keys.add(name_key(e["Player"]))
    for p in props:
        other_keys.add(name_key(p[2]))
    for i in injuries:
        other_keys.add(name_key(i[4]))
    all_keys = {name_key(n): pid for pid, n in all_names.items()}

    key_to_ids = collections.defaultdict(set)
    for pid in by_id:
        for n in names_of(pid):
            key_to_ids[name_key(n)].add(pid)

    selected = set(pid for pid in all_names if pid in by_id)
    by_name = set()
    rejected = []
    for k in sorted(other_keys):
        for pid in sorted(key_to_ids.get(k, ())):
            if pid in selected:
                continue
            if k in all_keys and all_keys[k] != pid:
                rejected.append((pid, names_of(pid)[0], "name belongs to 2023-24 player %s" % all_keys[k]))
                continue
            b = birth_of(pid)
            if b and b < "1980-01-01":
                rejected.append((pid, names_of(pid)[0], "born %s, cannot be a 2023-24 player" % b))
                continue
            by_name.add(pid)
    # a name key still shared by several selected ids is ambiguous: keep none of the name-only ones
    amb = collections.defaultdict(set)
    for pid in selected | by_name:
        for n in names_of(pid):
            amb[name_key(n)].add(pid)
    for k, ids in sorted(amb.items()):
        if len(ids) > 1 and k in other_keys:
            for pid in sorted(ids & by_name):
                by_name.discard(pid)
                rejected.append((pid, names_of(pid)[0], "ambiguous name %r" % k))
    selected |= by_name

    out = []
    dropped_alts = []
    for pid in sorted(selected, key=int):
        ns = names_of(pid)
        primary = ns[0]  # NBAName of the first cross-walk row (BBRefName if NBAName unusable)
        alts = []
        extra = [all_names[pid]] if pid in all_names else []
        for n in ns[1:] + extra:
            if n == primary or n in alts:
                continue
            owners = primary_key_owner.get(name_key(n), set())
            if owners and pid not in owners:
                dropped_alts.append((pid, primary, n))
                continue
            alts.append(n)
        out.append([pid, primary, "|".join(sorted(alts)), birth_of(pid)])
    from_all_only = sorted(pid for pid in all_names if pid not in by_id)
    for pid in from_all_only:
        out.append([pid, all_names[pid], "", ""])
    out.sort(key=lambda x: int(x[0]))

    if len({x[0] for x in out}) != len(out):
        raise DataError("players: duplicate ids")
    log("players: %d rows = %d all_data players found in cross-walk + %d all_data players missing from it "
        "(name from all_data, no birth date) + %d matched by name only (Ebube/props/injuries)"
        % (len(out), len(selected) - len(by_name), len(from_all_only), len(by_name)))
    log("  cross-walk: %d rows, %d without NBAID dropped, duplicate NBA ids: %s"
        % (len(xw), no_id, ", ".join("%s (%d rows)" % (p, len(by_id[p])) for p in dup_ids) or "none"))
    for pid, n, why in sorted(rejected, key=lambda t: int(t[0])):
        log("  name match rejected: %s %s (%s)" % (pid, n, why))
    for pid, p, n in dropped_alts:
        log("  alt name dropped (another player's name): %s %s <- %r" % (pid, p, n))
    eb_keys = {name_key(e["Player"]) for e in ebube_rows}
    have_keys = set()
    for x in out:
        have_keys.add(name_key(x[1]))
        for a in x[2].split("|"):
            if a:
                have_keys.add(name_key(a))
    missing = sorted(k for k in eb_keys if k not in have_keys)
    log("  Ebube-only players without any registry row (no NBA id known): %d: %s"
        % (len(missing), ", ".join(missing)))
    # They did play (nba.com box scores), so the registry must know them; no bundled source has
    # their NBA person id, so they get a local id "nbacom:<name-key>" that says where it is from.
    # The seed is an explicit, reviewable registry entry, not a name silently turned into a player.
    first_spelling = {}
    for e in sorted(ebube_rows, key=lambda r: r["Player"]):
        first_spelling.setdefault(name_key(e["Player"]), e["Player"].strip())
    for k in missing:
        out.append(["nbacom:" + k.replace(" ", "-"), first_spelling[k], "", ""])
    return out


# --------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(REPO_ROOT, "..", "shared", "data"),
                    help="folder with the copied source repositories (default: ../shared/data)")
    ap.add_argument("--out", default=os.path.join(REPO_ROOT, "data", "2023-24"),
                    help="output folder (default: data/2023-24)")
    args = ap.parse_args(argv)
    shared = os.path.normpath(args.shared)
    out_dir = os.path.normpath(args.out)
    if not os.path.isdir(shared):
        print("error: shared data folder not found: %s" % shared, file=sys.stderr)
        return 2
    os.makedirs(out_dir, exist_ok=True)

    def log(msg):
        print(msg)

    try:
        all_rows, games = load_all_data(shared)
        box, added = build_box_scores(shared, all_rows, games, log)
        schedule, lines, score = build_schedule_and_lines(shared, games, log)
        check_scores_vs_boxes(box, score, log)
        props = build_props(shared, log)
        injuries = build_injuries(shared, log)
        ebube = read_csv(shared, IN_EBUBE)
        players = build_players(shared, all_rows, ebube, props, injuries, log)
    except DataError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1

    write_files(out_dir, [("schedule.csv", schedule), ("box_scores.csv", box),
                          ("player_points_props.csv", props), ("injuries.csv", injuries),
                          ("game_lines.csv", lines), ("players.csv", players)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
