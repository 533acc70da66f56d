#!/usr/bin/env python3
"""Builds tests/fixtures/http/ from the bundled real 2023-24 season (data/2023-24) for one date.

The games, scores, tip-offs, box scores and points lines are real (data/README.md says where they
come from). The API envelopes are reconstructed in each API's documented shape, not captured:
ESPN event ids, balldontlie game/team/stat ids and The Odds API event ids are made up (stable
hashes), and balldontlie player ids are the NBA person ids. Run from the repository root:

    python3 tools/make_http_fixtures.py 2024-03-01
"""
import csv
import hashlib
import json
import os
import sys

DATE = sys.argv[1] if len(sys.argv) > 1 else "2024-03-01"
DATA = "data/2023-24"
OUT = "tests/fixtures/http"

# balldontlie team ids are the 30 teams in alphabetical order of their full names.
TEAMS = [("ATL", "Atlanta Hawks"), ("BOS", "Boston Celtics"), ("BKN", "Brooklyn Nets"), ("CHA", "Charlotte Hornets"),
         ("CHI", "Chicago Bulls"), ("CLE", "Cleveland Cavaliers"), ("DAL", "Dallas Mavericks"), ("DEN", "Denver Nuggets"),
         ("DET", "Detroit Pistons"), ("GSW", "Golden State Warriors"), ("HOU", "Houston Rockets"),
         ("IND", "Indiana Pacers"), ("LAC", "LA Clippers"), ("LAL", "Los Angeles Lakers"), ("MEM", "Memphis Grizzlies"),
         ("MIA", "Miami Heat"), ("MIL", "Milwaukee Bucks"), ("MIN", "Minnesota Timberwolves"),
         ("NOP", "New Orleans Pelicans"), ("NYK", "New York Knicks"), ("OKC", "Oklahoma City Thunder"),
         ("ORL", "Orlando Magic"), ("PHI", "Philadelphia 76ers"), ("PHX", "Phoenix Suns"),
         ("POR", "Portland Trail Blazers"), ("SAC", "Sacramento Kings"), ("SAS", "San Antonio Spurs"),
         ("TOR", "Toronto Raptors"), ("UTA", "Utah Jazz"), ("WAS", "Washington Wizards")]
BDL_ID = {code: i + 1 for i, (code, _) in enumerate(TEAMS)}
FULL = dict(TEAMS)
ESPN_ABBR = {"GSW": "GS", "NYK": "NY", "SAS": "SA", "NOP": "NO", "UTA": "UTAH", "WAS": "WSH"}


def h(s, n):
    return int(hashlib.sha256(s.encode()).hexdigest()[:n], 16)


games = [r for r in csv.DictReader(open(f"{DATA}/schedule.csv")) if r["game_date"] == DATE]
box = [r for r in csv.DictReader(open(f"{DATA}/box_scores.csv")) if r["game_date"] == DATE]
props = [r for r in csv.DictReader(open(f"{DATA}/player_points_props.csv"))
         if r["game_date"] == DATE and r["snapshot"] == "open"]
os.makedirs(OUT, exist_ok=True)
ymd = DATE.replace("-", "")


def espn_team(code):
    return {"id": str(BDL_ID[code]), "abbreviation": ESPN_ABBR.get(code, code), "displayName": FULL[code],
            "shortDisplayName": FULL[code].split()[-1], "location": " ".join(FULL[code].split()[:-1])}


events = []
for g in games:
    eid = str(401585000 + h(g["game_id"], 3) % 1000)
    tip = g["tipoff_utc"].replace(":00Z", "Z")  # ESPN writes no seconds
    status = {"clock": 0.0, "displayClock": "0.0", "period": 4,
              "type": {"id": "3", "name": "STATUS_FINAL", "state": "post", "completed": True,
                       "description": "Final", "detail": "Final", "shortDetail": "Final"}}
    comp = {"id": eid, "date": tip, "attendance": 18000 + h(g["game_id"], 3) % 2000, "timeValid": True,
            "status": status,
            "competitors": [
                {"id": str(BDL_ID[g["home_team"]]), "homeAway": "home", "winner": int(g["home_points"]) > int(g["away_points"]),
                 "team": espn_team(g["home_team"]), "score": g["home_points"]},
                {"id": str(BDL_ID[g["away_team"]]), "homeAway": "away", "winner": int(g["away_points"]) > int(g["home_points"]),
                 "team": espn_team(g["away_team"]), "score": g["away_points"]}]}
    events.append({"id": eid, "uid": f"s:40~l:46~e:{eid}", "date": tip,
                   "name": f"{FULL[g['away_team']]} at {FULL[g['home_team']]}",
                   "shortName": f"{ESPN_ABBR.get(g['away_team'], g['away_team'])} @ {ESPN_ABBR.get(g['home_team'], g['home_team'])}",
                   "season": {"year": 2024, "type": 2, "slug": "regular-season"},
                   "competitions": [comp], "status": status})
scoreboard = {"leagues": [{"id": "46", "uid": "s:40~l:46", "name": "National Basketball Association",
                           "abbreviation": "NBA", "slug": "nba",
                           "season": {"year": 2024, "startDate": "2023-09-30T07:00Z", "endDate": "2024-06-24T06:59Z",
                                      "type": {"id": "2", "type": 2, "name": "Regular Season"}}}],
              "season": {"type": 2, "year": 2024}, "day": {"date": DATE}, "events": events}
json.dump(scoreboard, open(f"{OUT}/espn_scoreboard_{ymd}.json", "w"), indent=1)


def bdl_team(code):
    name = FULL[code].split()[-1]
    return {"id": BDL_ID[code], "conference": "", "division": "", "city": " ".join(FULL[code].split()[:-1]),
            "name": name, "full_name": FULL[code], "abbreviation": code}


bdl_games = []
bdl_game_id = {}
for g in games:
    gid = 1037000 + h(g["game_id"], 4) % 1000
    bdl_game_id[g["game_id"]] = gid
    bdl_games.append({"id": gid, "date": DATE, "season": 2023, "status": "Final", "period": 4, "time": "Final",
                      "postseason": False, "home_team_score": int(g["home_points"]),
                      "visitor_team_score": int(g["away_points"]), "home_team": bdl_team(g["home_team"]),
                      "visitor_team": bdl_team(g["away_team"])})
json.dump({"data": bdl_games}, open(f"{OUT}/bdl_games_{DATE}.json", "w"), indent=1)

game_by_id = {g["game_id"]: g for g in games}
rows = []
for i, b in enumerate(box):
    g = game_by_id[b["game_id"]]
    first, _, last = b["player_name"].partition(" ")
    mins = float(b["minutes"] or 0)
    row = {"id": 14270000 + i, "min": f"{int(mins)}:{int(round((mins % 1) * 60)):02d}" if mins else "00"}
    for k in ["fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb", "ast", "stl", "blk"]:
        row[k] = int(b[k]) if b[k] != "" else None
    row["turnover"] = int(b["tov"]) if b["tov"] != "" else None
    row["pf"] = int(b["pf"]) if b["pf"] != "" else None
    row["pts"] = int(b["points"])
    row["player"] = {"id": int(b["player_id"]) if b["player_id"] else 900000 + i, "first_name": first, "last_name": last, "position": "",
                     "team_id": BDL_ID[b["team"]]}
    row["team"] = bdl_team(b["team"])
    row["game"] = {"id": bdl_game_id[b["game_id"]], "date": DATE, "season": 2023, "status": "Final", "period": 4,
                   "time": "Final", "postseason": False, "home_team_score": int(g["home_points"]),
                   "visitor_team_score": int(g["away_points"]), "home_team_id": BDL_ID[g["home_team"]],
                   "visitor_team_id": BDL_ID[g["away_team"]]}
    rows.append(row)
json.dump({"data": rows}, open(f"{OUT}/bdl_stats_{DATE}.json", "w"))

team_of = {b["player_name"]: b["team"] for b in box}
odds_events = []
for g in games:
    eid = hashlib.md5(g["game_id"].encode()).hexdigest()
    odds_events.append({"id": eid, "sport_key": "basketball_nba", "sport_title": "NBA",
                        "commence_time": g["tipoff_utc"], "home_team": FULL[g["home_team"]],
                        "away_team": FULL[g["away_team"]]})
    books = {}
    for p in props:
        if team_of.get(p["player_name"]) not in (g["home_team"], g["away_team"]):
            continue
        outcomes = books.setdefault(p["sportsbook"], {"t": p["captured_at_utc"], "o": []})
        outcomes["t"] = max(outcomes["t"], p["captured_at_utc"])
        for side, price in (("Over", p["over_price"]), ("Under", p["under_price"])):
            if price:
                outcomes["o"].append({"name": side, "description": p["player_name"], "price": int(price),
                                      "point": float(p["line"])})
    bookmakers = [{"key": k, "title": {"draftkings": "DraftKings", "fanduel": "FanDuel", "betmgm": "BetMGM",
                                         "pointsbet": "PointsBet (US)"}.get(k, k), "last_update": v["t"],
                   "markets": [{"key": "player_points", "last_update": v["t"], "outcomes": v["o"]}]}
                  for k, v in sorted(books.items())]
    json.dump(dict(odds_events[-1], bookmakers=bookmakers), open(f"{OUT}/odds_event_{eid}.json", "w"), indent=1)
json.dump(odds_events, open(f"{OUT}/odds_events_{DATE}.json", "w"), indent=1)
print(f"{len(events)} events, {len(bdl_games)} games, {len(rows)} stat rows, {len(props)} opening lines")
