#include "pipeline/formats.h"

#include <algorithm>
#include <map>

#include "pipeline/api_formats.h"
#include "pipeline/espn_format.h"
#include "pipeline/csv_import.h"

namespace nbaprops::pipeline {
namespace csv_import {

const std::vector<KindSpec>& CsvSpecs() {
  static const std::vector<KindSpec> kSpecs = {
      {ImportKind::kBoxScores, "box_scores",
       {"game_id", "game_date", "team", "player_name", "minutes", "points"},
       {"player_id", "opponent", "home_away", "fgm", "fga", "fg3m", "fg3a", "ftm", "fta", "oreb", "dreb", "reb",
        "ast", "stl", "blk", "tov", "pf", "plus_minus", "starter", "source"}},
      {ImportKind::kSchedule, "schedule",
       {"game_id", "game_date", "home_team", "away_team"},
       {"tipoff_utc", "status", "home_points", "away_points", "original_game_date", "source"}},
      {ImportKind::kPlayerProps, "player_props",
       {"captured_at_utc", "game_date", "player_name", "sportsbook", "line", "over_price", "under_price"},
       {"team", "opponent", "home_away", "market", "snapshot", "source"}},
      {ImportKind::kInjuries, "injuries",
       {"captured_at_utc", "team", "player_name", "status"},
       {"report_date", "details", "last_seen_utc", "source"}},
      {ImportKind::kGameLines, "game_lines",
       {"game_date", "home_team", "away_team", "sportsbook"},
       {"captured_at_utc", "spread_home", "total", "home_price", "away_price", "source"}},
      {ImportKind::kPlayers, "players", {"player_id", "player_name"}, {"alt_names", "birth_date"}},
      {ImportKind::kRotowireProps, "rotowire_props",
       {"playername", "prop", "over_under"},
       {"opp", "draftkings", "fanduel", "mgm", "pointsbet"}},
  };
  return kSpecs;
}

const KindSpec* SpecFor(ImportKind kind) {
  for (const KindSpec& s : CsvSpecs()) {
    if (s.kind == kind) return &s;
  }
  return nullptr;
}

}  // namespace csv_import

namespace {

using csv_import::CsvSpecs;
using csv_import::Fields;
using csv_import::IsConflictMarker;
using csv_import::KindSpec;
using csv_import::ParseCsv;
using csv_import::SpecFor;

std::string HomeAway(std::string_view v, Fields& f) {
  std::string s = ToLower(v);
  if (s.empty()) return "";
  if (s == "home" || s == "h") return "home";
  if (s == "away" || s == "a" || s == "@") return "away";
  f.Fail("home_away '" + std::string(v) + "' must be home or away");
  return "";
}

bool ValidAmericanOdds(int p) { return p <= -100 || p >= 100; }


Status ParseBoxScores(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kBoxScores, content, name, out, [&](Fields& f, const std::string& loc) {
    BoxScoreRecord r;
    r.game_id = f.Text("game_id", true);
    r.game_date = f.Date("game_date");
    r.team = f.Team("team");
    r.opponent = f.Team("opponent", false);
    r.player_name = f.Text("player_name", true);
    r.source_player_id = f.Text("player_id");
    std::string_view min = f.Get("minutes");
    auto m = ParseMinutes(min);
    if (!m) f.Fail("minutes '" + std::string(min) + "' is not a number of minutes (36, 36.5 or 36:47)");
    r.minutes = m.value_or(0);
    r.points = f.Int("points", true).value_or(0);
    r.fgm = f.Int("fgm"); r.fga = f.Int("fga"); r.fg3m = f.Int("fg3m"); r.fg3a = f.Int("fg3a");
    r.ftm = f.Int("ftm"); r.fta = f.Int("fta"); r.oreb = f.Int("oreb"); r.dreb = f.Int("dreb");
    r.reb = f.Int("reb"); r.ast = f.Int("ast"); r.stl = f.Int("stl"); r.blk = f.Int("blk");
    r.tov = f.Int("tov"); r.pf = f.Int("pf"); r.plus_minus = f.Int("plus_minus");
    if (auto s = f.Get("starter"); !s.empty()) r.starter = (s == "1" || ToLower(s) == "true");
    r.source = f.Text("source");
    if (r.source.empty()) r.source = "csv";
    r.location = loc;
    if (r.points < 0 || r.minutes < 0 || r.minutes > 70) f.Fail("points or minutes out of range");
    if (r.fgm && r.fg3m && r.ftm && r.points != 2 * *r.fgm + *r.fg3m + *r.ftm) {
      f.Fail("points " + std::to_string(r.points) + " disagree with 2*fgm+fg3m+ftm = " +
             std::to_string(2 * *r.fgm + *r.fg3m + *r.ftm));
    }
    if ((r.fgm && r.fga && *r.fgm > *r.fga) || (r.fg3m && r.fg3a && *r.fg3m > *r.fg3a) ||
        (r.ftm && r.fta && *r.ftm > *r.fta)) {
      f.Fail("more shots made than attempted");
    }
    if (r.opponent == r.team && !r.team.empty()) f.Fail("team and opponent are the same");
    if (f.error().empty()) out->box_scores.push_back(std::move(r));
  });
}

Status ParseSchedule(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kSchedule, content, name, out, [&](Fields& f, const std::string& loc) {
    GameRecord g;
    g.location = loc;
    g.game_id = f.Text("game_id", true);
    g.game_date = f.Date("game_date");
    g.tipoff_utc = f.Timestamp("tipoff_utc", false);
    g.home_team = f.Team("home_team");
    g.away_team = f.Team("away_team");
    std::string status = ToLower(f.Get("status"));
    g.status = status.empty() ? "scheduled" : status;
    if (g.status != "scheduled" && g.status != "final" && g.status != "postponed" && g.status != "in_progress") {
      f.Fail("status '" + status + "' must be scheduled, in_progress, final or postponed");
    }
    g.home_points = f.Int("home_points");
    g.away_points = f.Int("away_points");
    g.original_game_date = f.Date("original_game_date", false);
    g.source = f.Text("source");
    if (g.source.empty()) g.source = "csv";
    if (!g.home_team.empty() && g.home_team == g.away_team) f.Fail("home_team and away_team are the same");
    if (g.tipoff_utc && !g.game_date.empty() && FormatIsoDate(EasternDate(*g.tipoff_utc)) != g.game_date) {
      f.Fail("tipoff_utc " + FormatIsoTimestamp(*g.tipoff_utc) + " is not on game_date " + g.game_date +
             " in America/New_York");
    }
    if (f.error().empty()) out->games.push_back(std::move(g));
  });
}

Status ParseProps(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kPlayerProps, content, name, out, [&](Fields& f, const std::string& loc) {
    PropRecord p;
    p.captured_at_utc = f.Timestamp("captured_at_utc").value_or(0);
    p.game_date = f.Date("game_date");
    p.player_name = f.Text("player_name", true);
    p.team = f.Team("team", false);
    std::string opp(f.Get("opponent"));
    if (StartsWith(opp, "@")) opp = opp.substr(1);
    if (!opp.empty()) {
      auto t = NormalizeTeam(opp);
      if (!t) f.Fail("opponent '" + opp + "' is not an NBA team");
      p.opponent = t.value_or("");
    }
    p.home_away = HomeAway(f.Get("home_away"), f);
    p.sportsbook = ToLower(f.Text("sportsbook", true));
    std::string market = ToLower(f.Get("market"));
    p.market = market.empty() || market == "points" ? "player_points" : market;
    p.over_price = f.Int("over_price");
    p.under_price = f.Int("under_price");
    std::string_view line = f.Get("line");
    if (line.empty() && f.error().empty()) {
      f.Fail("odds with no line: a points prop needs a line (prices " + std::string(f.Get("over_price")) + "/" +
             std::string(f.Get("under_price")) + " given); the row cannot be graded or compared");
    }
    p.line = f.Double("line").value_or(0);
    if (f.error().empty() && (p.line <= 0 || p.line > 100 || std::fmod(p.line * 2, 1.0) != 0)) {
      f.Fail("line " + std::string(line) + " is not a points line (a positive multiple of 0.5 up to 100)");
    }
    if ((p.over_price && !ValidAmericanOdds(*p.over_price)) || (p.under_price && !ValidAmericanOdds(*p.under_price))) {
      f.Fail("prices must be American odds (<= -100 or >= 100)");
    }
    p.snapshot = ToLower(f.Get("snapshot"));
    p.source = f.Text("source");
    if (p.source.empty()) p.source = "csv";
    p.location = loc;
    if (f.error().empty()) out->props.push_back(std::move(p));
  });
}

Status ParseInjuries(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kInjuries, content, name, out, [&](Fields& f, const std::string& loc) {
    InjuryRecord r;
    r.captured_at_utc = f.Timestamp("captured_at_utc").value_or(0);
    r.report_date = f.Date("report_date", false);
    if (r.report_date.empty() && r.captured_at_utc) r.report_date = FormatIsoDate(EasternDate(r.captured_at_utc));
    r.team = f.Team("team");
    r.player_name = f.Text("player_name", true);
    r.status_raw = f.Text("status");
    r.details = f.Text("details");
    r.status = CanonicalInjuryStatus(r.status_raw, r.details);
    if (r.status.empty() && f.error().empty()) {
      f.Fail("status '" + r.status_raw + "' (details '" + Truncate(r.details, 40) +
             "') is not a known availability; use out, doubtful, questionable, probable or available");
    }
    r.source = f.Text("source");
    if (r.source.empty()) r.source = "csv";
    r.location = loc;
    if (f.error().empty()) out->injuries.push_back(std::move(r));
  });
}

Status ParseGameLines(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kGameLines, content, name, out, [&](Fields& f, const std::string& loc) {
    GameLineRecord g;
    g.game_date = f.Date("game_date");
    g.captured_at_utc = f.Timestamp("captured_at_utc", false);
    g.home_team = f.Team("home_team");
    g.away_team = f.Team("away_team");
    g.sportsbook = ToLower(f.Text("sportsbook", true));
    g.spread_home = f.Double("spread_home");
    g.total = f.Double("total");
    g.home_price = f.Int("home_price");
    g.away_price = f.Int("away_price");
    g.source = f.Text("source");
    if (g.source.empty()) g.source = "csv";
    g.location = loc;
    if (g.total && (*g.total < 100 || *g.total > 350)) f.Fail("total is not a plausible game total");
    if (f.error().empty()) out->game_lines.push_back(std::move(g));
  });
}

Status ParsePlayers(std::string_view content, const std::string& name, ParsedPayload* out) {
  return ParseCsv(ImportKind::kPlayers, content, name, out, [&](Fields& f, const std::string& loc) {
    PlayerSeedRecord p;
    p.player_id = f.Text("player_id", true);
    p.player_name = f.Text("player_name", true);
    for (const std::string& a : Split(f.Get("alt_names"), '|')) {
      if (!Trim(a).empty()) p.alt_names.emplace_back(Trim(a));
    }
    p.birth_date = f.Date("birth_date", false);
    p.location = loc;
    if (f.error().empty()) out->players.push_back(std::move(p));
  });
}


}  // namespace

std::string_view KindName(ImportKind kind) {
  switch (kind) {
    case ImportKind::kUnknown: return "unknown";
    case ImportKind::kBalldontlieStats: return "balldontlie_stats";
    case ImportKind::kOddsApiEventOdds: return "odds_api_event_odds";
    case ImportKind::kEspnScoreboard: return "espn_scoreboard";
    default: break;
  }
  const KindSpec* s = SpecFor(kind);
  return s ? s->name : "unknown";
}

std::optional<ImportKind> KindFromName(std::string_view name) {
  for (ImportKind k : {ImportKind::kSchedule, ImportKind::kBoxScores, ImportKind::kInjuries, ImportKind::kPlayerProps,
                       ImportKind::kGameLines, ImportKind::kPlayers, ImportKind::kRotowireProps,
                       ImportKind::kBalldontlieStats, ImportKind::kOddsApiEventOdds, ImportKind::kEspnScoreboard}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string AllKindNames() {
  return "schedule, box_scores, injuries, player_props, game_lines, players, rotowire_props, balldontlie_stats, "
         "odds_api_event_odds, espn_scoreboard";
}

Detection DetectKind(std::string_view content) {
  Detection d;
  std::string_view head = Trim(content.substr(0, 4096));
  if (StartsWith(head, "{") || StartsWith(head, "[")) {
    if (LooksLikeBalldontlieStats(content)) d.kind = ImportKind::kBalldontlieStats;
    else if (LooksLikeOddsApiEventOdds(content)) d.kind = ImportKind::kOddsApiEventOdds;
    else if (LooksLikeEspnScoreboard(content)) d.kind = ImportKind::kEspnScoreboard;
    return d;
  }
  CsvReader reader(content);
  CsvRecord rec;
  bool found = false;
  while (reader.Next(&rec)) {
    if (!IsConflictMarker(rec.raw)) {
      found = true;
      break;
    }
  }
  if (!found) return d;
  CsvHeader header(rec.fields);
  const KindSpec* best = nullptr;
  size_t best_have = 0;
  for (const KindSpec& s : CsvSpecs()) {
    size_t have = 0;
    for (const auto& c : s.required) have += header.Has(c);
    if (have == s.required.size()) {
      d.kind = s.kind;
      return d;
    }
    if (have > best_have) {
      best_have = have;
      best = &s;
    }
  }
  if (best && best_have >= 2 && best_have * 2 >= best->required.size()) {
    std::vector<std::string> missing;
    for (const auto& c : best->required) {
      if (!header.Has(c)) missing.push_back(c);
    }
    d.problem = std::string("looks like a ") + best->name + " file but is missing required column" +
                (missing.size() > 1 ? "s " : " ") + Join(missing, ", ") + " (header has: " +
                Join(header.names(), ", ") + "); see docs/import-formats.md";
  }
  return d;
}

StatusOr<ParsedPayload> ParsePayload(ImportKind kind, std::string_view content, const std::string& name,
                                     int64_t fetched_at) {
  ParsedPayload out;
  out.kind = kind;
  Status st;
  switch (kind) {
    case ImportKind::kSchedule: st = ParseSchedule(content, name, &out); break;
    case ImportKind::kBoxScores: st = ParseBoxScores(content, name, &out); break;
    case ImportKind::kInjuries: st = ParseInjuries(content, name, &out); break;
    case ImportKind::kPlayerProps: st = ParseProps(content, name, &out); break;
    case ImportKind::kGameLines: st = ParseGameLines(content, name, &out); break;
    case ImportKind::kPlayers: st = ParsePlayers(content, name, &out); break;
    case ImportKind::kRotowireProps: st = csv_import::ParseRotowire(content, name, fetched_at, &out); break;
    case ImportKind::kBalldontlieStats: {
      ASSIGN_OR_RETURN(auto page, ParseBalldontlieStats(content, name));
      out.box_scores = std::move(page.stats.records);
      out.rejects = std::move(page.stats.rejects);
      break;
    }
    case ImportKind::kOddsApiEventOdds: {
      ASSIGN_OR_RETURN(auto odds, ParseOddsApiEventOdds(content, name, fetched_at));
      out.props = std::move(odds.records);
      out.rejects = std::move(odds.rejects);
      break;
    }
    case ImportKind::kEspnScoreboard: {
      ASSIGN_OR_RETURN(auto games, ParseEspnScoreboard(content, name));
      out.games = std::move(games.records);
      out.rejects = std::move(games.rejects);
      break;
    }
    case ImportKind::kUnknown:
      return InvalidArgumentError(name + ": unknown kind; pass --kind with one of " + AllKindNames());
  }
  RETURN_IF_ERROR(st);
  return out;
}

std::optional<double> ParseMinutes(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    auto m = ParseInt(s.substr(0, colon));
    auto sec = ParseInt(s.substr(colon + 1));
    if (!m || !sec || *m < 0 || *sec < 0 || *sec >= 60) return std::nullopt;
    return static_cast<double>(*m) + static_cast<double>(*sec) / 60.0;
  }
  auto d = ParseDouble(s);
  if (!d || !std::isfinite(*d) || *d < 0) return std::nullopt;
  return d;
}

std::string CanonicalInjuryStatus(std::string_view status, std::string_view details) {
  std::string s = ToLower(Trim(status));
  if (s.empty()) {
    // basketball-reference style: the status leads the details, "Out (Knee) - ..."
    std::string d = ToLower(Trim(details));
    size_t cut = d.find_first_of("(-");
    s = std::string(Trim(d.substr(0, cut)));
  }
  if (s.empty()) return "";
  static const std::map<std::string, std::string> kMap = {
      {"out", "out"}, {"out for season", "out"}, {"injured", "out"}, {"suspended", "out"},
      {"doubtful", "doubtful"}, {"unlikely to play", "doubtful"},
      {"questionable", "questionable"}, {"day to day", "questionable"}, {"day-to-day", "questionable"},
      {"game-time decision", "questionable"}, {"uncertain to play", "questionable"}, {"tbd", "questionable"},
      {"could return", "questionable"}, {"update", "questionable"},
      {"probable", "probable"}, {"likely to play", "probable"}, {"expected to play", "probable"},
      {"expects to play", "probable"}, {"optimistic to play", "probable"}, {"on track to play", "probable"},
      {"intends to play", "probable"}, {"plans to play", "probable"}, {"expected to be available", "probable"},
      {"said he'll play", "probable"},
      {"available", "available"}, {"available to play", "available"}, {"in", "available"},
      {"will play", "available"}, {"not on injury report", "available"}, {"not listed on injury report", "available"},
  };
  auto it = kMap.find(s);
  return it == kMap.end() ? "" : it->second;
}

}  // namespace nbaprops::pipeline
