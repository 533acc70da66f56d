#!/usr/bin/env python3
"""Build the training-history seasons (data/2018-19, data/2019-20, data/2020-21) from ../shared/data.

These seasons have real box scores, schedules, scores and closing game lines but no sportsbook
player-points lines and no injury reports: they exist so that the model can learn from more
player-games. Features that need lines or injuries are flagged defaulted for them, as for any
date without those inputs. Python 3 standard library only; deterministic output.

Inputs (read-only, below --shared):
  MylesThomas__betting/data/01_input/nba_api/historical/nba_games_YYYY_YY.csv  team game logs:
      game ids, ET dates, home/away, team points (the schedule)
  jimtheflash__gambling_stuff/data/nba_boxscores/<GAME_ID>.csv                 player box scores
      (stats.nba.com boxscoretraditionalv2; DNP rows, with empty minutes, are left out)
  kyleskom__NBA-Machine-Learning-Sports-Betting/derived_csv/odds_YYYY-YY.csv    closing spread,
      total and moneylines (dates are <season>-<MMDD>; spreads are unsigned, the favourite is the
      team with the lower moneyline)

Outputs (below --out/<season>/): schedule.csv, box_scores.csv, game_lines.csv.  See data/README.md.

Usage: python3 tools/build_history.py [--shared DIR] [--out DIR] [--season 2018-19 ...]
"""

import argparse
import collections
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_season as bs  # noqa: E402  (shared helpers: team codes, number formatting, CSV writer)

MYLES = ("MylesThomas__betting", "data", "01_input", "nba_api", "historical")
JIM = ("jimtheflash__gambling_stuff", "data", "nba_boxscores")
KYLE = ("kyleskom__NBA-Machine-Learning-Sports-Betting", "derived_csv")
SEASONS = ("2018-19", "2019-20", "2020-21")

# Team names of the odds table beyond build_season's (the Hornets' old name is used for them).
EXTRA_TEAM_NAMES = {"Charlotte Bobcats": "CHA"}


def team(value, where):
    v = value.strip()
    return EXTRA_TEAM_NAMES[v] if v in EXTRA_TEAM_NAMES else bs.team_code(v, where)


def build_schedule(shared, season, log):
    """Regular-season games (ids 002...) from the two team-log rows of each game."""
    parts = MYLES + ("nba_games_%s.csv" % season.replace("-", "_"),)
    by_game = collections.defaultdict(list)
    for r in bs.read_csv(shared, parts):
        if r["GAME_ID"].startswith("002"):
            by_game[r["GAME_ID"]].append(r)
    games = {}
    for gid, rows in by_game.items():
        if len(rows) != 2:
            raise bs.DataError("team logs: game %s has %d team rows, expected 2" % (gid, len(rows)))
        home = [r for r in rows if " vs. " in r["MATCHUP"]]
        away = [r for r in rows if " @ " in r["MATCHUP"]]
        if len(home) != 1 or len(away) != 1 or rows[0]["GAME_DATE"] != rows[1]["GAME_DATE"]:
            raise bs.DataError("team logs: game %s has no clear home/away or two dates" % gid)
        h, a = home[0], away[0]
        games[gid] = {
            "date": h["GAME_DATE"].strip(),
            "home": team(h["TEAM_ABBREVIATION"], "team log %s" % gid),
            "away": team(a["TEAM_ABBREVIATION"], "team log %s" % gid),
            "home_points": bs.num(h["PTS"]),
            "away_points": bs.num(a["PTS"]),
        }
    out = [[gid, g["date"], "", g["home"], g["away"], "final", g["home_points"], g["away_points"], "",
            "nba_api"] for gid, g in games.items()]
    out.sort(key=lambda r: (r[1], r[0]))
    log("%s schedule: %d regular-season games (%s .. %s), no tip-off times in the source"
        % (season, len(out), out[0][1], out[-1][1]))
    return games, out


def minutes(value, where, fixed):
    """'MM:SS' as given, except the source's rounding artefact 'MM:60', which is (MM+1):00."""
    m, sep, sec = value.strip().partition(":")
    if not sep or not m.isdigit() or not sec.isdigit() or int(sec) > 60:
        raise bs.DataError("%s: minutes %r are not MM:SS" % (where, value))
    if int(sec) == 60:
        fixed.append(value)
        return "%d:00" % (int(m) + 1)
    return value.strip()


def build_box_scores(shared, season, games, log):
    out = []
    dnp = 0
    missing = []
    fixed = []
    for gid in sorted(games):
        path = os.path.join(shared, *JIM, gid + ".csv")
        if not os.path.exists(path):
            missing.append(gid)
            continue
        g = games[gid]
        with open(path, encoding="utf-8", newline="") as f:
            for r in csv.DictReader(f):
                if r["GAME_ID"].strip() != gid:
                    raise bs.DataError("%s: row of game %s" % (path, r["GAME_ID"]))
                if not r["MIN"].strip():
                    dnp += 1
                    continue
                t = team(r["TEAM_ABBREVIATION"], path)
                if t not in (g["home"], g["away"]):
                    raise bs.DataError("%s: team %s is not in game %s %s-%s" % (path, t, gid, g["home"], g["away"]))
                home = t == g["home"]
                out.append([
                    gid, g["date"], t, g["away"] if home else g["home"], "home" if home else "away",
                    r["PLAYER_ID"].strip(), r["PLAYER_NAME"].strip(), minutes(r["MIN"], path, fixed),
                ] + [bs.num(r[c]) for c in ("PTS", "FGM", "FGA", "FG3M", "FG3A", "FTM", "FTA", "OREB", "DREB",
                                            "REB", "AST", "STL", "BLK", "TO", "PF", "PLUS_MINUS")] + ["nba_api"])
    out.sort(key=lambda r: (r[1], r[0], r[2], r[6]))
    # Cross-check: the players' points of each team-game sum to the team's score in the logs. A game
    # whose box score does not (a file saved before the game ended) is left out whole, so that the
    # pipeline never sees wrong ones. The caller leaves such games out of the schedule too: the
    # pipeline (rightly) refuses to compute a date with a final game that has no box scores.
    pts = collections.Counter()
    for r in out:
        pts[(r[0], r[2])] += int(r[8])
    bad = sorted({gid for gid, g in games.items() if gid not in missing
                  for t, s in ((g["home"], g["home_points"]), (g["away"], g["away_points"]))
                  if pts[(gid, t)] != int(s)})
    for gid in bad:
        g = games[gid]
        log("  left out: box score of %s %s %s-%s, points sum %d-%d but the score is %s-%s"
            % (gid, g["date"], g["home"], g["away"], pts[(gid, g["home"])], pts[(gid, g["away"])],
               g["home_points"], g["away_points"]))
    out = [r for r in out if r[0] not in bad]
    have = len(games) - len(missing) - len(bad)
    log("%s box_scores: %d player-games played, %d DNP rows left out; box scores for %d / %d games "
        "(no file: %s); points sum to the team score on every team-game kept; %d minutes 'MM:60' "
        "written as (MM+1):00" % (season, len(out), dnp, have, len(games), ", ".join(missing) or "none", len(fixed)))
    return out, set(missing) | set(bad)


def build_game_lines(shared, season, games, log):
    by_key = {}
    for gid, g in games.items():
        by_key[(g["date"][5:7] + g["date"][8:10], g["home"], g["away"])] = gid
    rows = bs.read_csv(shared, KYLE + ("odds_%s.csv" % season,))
    out, unmatched, no_fav, seen = [], 0, 0, set()
    for o in rows:
        d = o["Date"].strip()
        if not d.startswith(season + "-") or len(d) != len(season) + 5:
            raise bs.DataError("odds %s: date %r is not %s-MMDD" % (season, d, season))
        home, away = team(o["Home"], "odds Home"), team(o["Away"], "odds Away")
        # '<season>-<MMDD>' names no year: the game of these teams on that month and day in the
        # season's schedule (a regular season never has two).
        gid = by_key.get((d[-4:], home, away))
        if gid is None:  # playoffs, play-in
            unmatched += 1
            continue
        if gid in seen:
            raise bs.DataError("odds %s: two rows for game %s" % (season, gid))
        seen.add(gid)
        spread = o["Spread"].strip()
        ml_home, ml_away = bs.num(o["ML_Home"]), bs.num(o["ML_Away"])
        if spread in ("PK", "0", "0.0"):
            spread_home = "0"
        elif spread == "":
            spread_home = ""
        elif ml_home == "" or ml_away == "" or float(ml_home) == float(ml_away):
            spread_home = ""  # unsigned spread and no favourite: unknown rather than guessed
            no_fav += 1
        else:
            mag = bs.num(spread).lstrip("-")
            spread_home = bs.num("-" + mag) if float(ml_home) < float(ml_away) else mag
        out.append([games[gid]["date"], "", home, away, "consensus_close", spread_home, bs.num(o["OU"]),
                    ml_home, ml_away, "kyleskom"])
    out.sort(key=lambda r: (r[0], r[2], r[3]))
    log("%s game_lines: %d of %d games (%d odds rows not regular-season games; %d spreads left empty: "
        "equal or missing moneylines)" % (season, len(out), len(games), unmatched, no_fav))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(bs.REPO_ROOT, "..", "shared", "data"),
                    help="folder with the copied source repositories (default: ../shared/data)")
    ap.add_argument("--out", default=os.path.join(bs.REPO_ROOT, "data"),
                    help="parent of the season folders (default: data/)")
    ap.add_argument("--season", action="append", choices=SEASONS, help="only this season (repeatable)")
    args = ap.parse_args(argv)
    shared = os.path.normpath(args.shared)
    if not os.path.isdir(shared):
        print("error: shared data folder not found: %s" % shared, file=sys.stderr)
        return 2
    for season in args.season or SEASONS:
        out_dir = os.path.join(os.path.normpath(args.out), season)
        try:
            games, schedule = build_schedule(shared, season, print)
            box, dropped = build_box_scores(shared, season, games, print)
            if dropped:
                print("%s schedule: left out %s (no usable box score)" % (season, ", ".join(sorted(dropped))))
                games = {gid: g for gid, g in games.items() if gid not in dropped}
                schedule = [r for r in schedule if r[0] not in dropped]
            lines = build_game_lines(shared, season, games, print)
        except bs.DataError as e:
            print("error: %s" % e, file=sys.stderr)
            return 1
        os.makedirs(out_dir, exist_ok=True)
        bs.write_files(out_dir, [("schedule.csv", schedule), ("box_scores.csv", box), ("game_lines.csv", lines)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
