// balldontlie v1 pages (api_formats.h): /v1/stats -> BoxScoreRecords (ParseBalldontlieStats) and
// /v1/games -> the date's games (ParseBdlGamesPage).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/api_formats.h"
#include "pipeline/formats.h"
#include "pipeline/json_payload.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline {

using json_payload::AbsentEverywhere;
using json_payload::AsWhole;
using json_payload::At;
using json_payload::Find;
using json_payload::FirstItemHas;
using json_payload::Index;
using json_payload::ItemProblems;
using json_payload::json;
using json_payload::MissingField;
using json_payload::ParseDocument;
using json_payload::QuotedList;
using json_payload::ShapeChanged;
using json_payload::Shown;
using json_payload::TypeWithArticle;

namespace {

struct BdlStat {
  const char* key;
  std::optional<int> BoxScoreRecord::*member;
};
constexpr BdlStat kBdlStats[] = {
    {"fgm", &BoxScoreRecord::fgm},      {"fga", &BoxScoreRecord::fga},   {"fg3m", &BoxScoreRecord::fg3m},
    {"fg3a", &BoxScoreRecord::fg3a},    {"ftm", &BoxScoreRecord::ftm},   {"fta", &BoxScoreRecord::fta},
    {"oreb", &BoxScoreRecord::oreb},    {"dreb", &BoxScoreRecord::dreb}, {"reb", &BoxScoreRecord::reb},
    {"ast", &BoxScoreRecord::ast},      {"stl", &BoxScoreRecord::stl},   {"blk", &BoxScoreRecord::blk},
    {"turnover", &BoxScoreRecord::tov}, {"pf", &BoxScoreRecord::pf},
};

// Fields the adapter reads; a page lacking one of them in every row no longer matches the adapter.
// balldontlie sends every stat key on every row (null when unknown), so an absent stat key is a
// rename too, and silently dropping e.g. turnovers would be data loss.
std::vector<std::string> BdlExpectedFields() {
  std::vector<std::string> keys = {"pts", "min", "player", "team", "game"};
  for (const BdlStat& s : kBdlStats) keys.push_back(s.key);
  return keys;
}

// Rows on the page are the only place a team id meets its abbreviation; the opponent of each row
// is looked up here. Ids whose rows disagree are dropped rather than guessed.
std::map<int64_t, std::string> TeamCodesById(const json& data) {
  std::map<int64_t, std::string> codes;
  std::set<int64_t> conflicting;
  auto note = [&](const json* team) {
    if (team == nullptr || !team->is_object()) return;
    const json* id = Find(*team, "id");
    const json* abbr = Find(*team, "abbreviation");
    if (id == nullptr || abbr == nullptr || !abbr->is_string()) return;
    auto tid = AsWhole(*id);
    auto code = NormalizeTeam(abbr->get_ref<const std::string&>());
    if (!tid || !code) return;
    auto [it, inserted] = codes.emplace(*tid, *code);
    if (!inserted && it->second != *code) conflicting.insert(*tid);
  };
  for (const json& item : data) {
    note(Find(item, "team"));
    if (const json* game = Find(item, "game")) {
      note(Find(*game, "home_team"));  // embedded by some endpoints/versions; used when present
      note(Find(*game, "visitor_team"));
    }
  }
  for (int64_t id : conflicting) codes.erase(id);
  return codes;
}

// "36:47" -> 36.783; "36" and "36.5" as written; "", "00" and null (did not play) -> 0.
std::optional<double> BdlMinutes(const json& v) {
  if (v.is_null()) return 0.0;
  if (v.is_number()) {
    double d = v.get<double>();
    if (!std::isfinite(d) || d < 0) return std::nullopt;
    return d;
  }
  if (!v.is_string()) return std::nullopt;
  std::string_view s = Trim(v.get_ref<const std::string&>());
  if (s.empty()) return 0.0;
  return ParseMinutes(s);
}

// balldontlie writes a game's calendar date either as "2024-01-30" or as that day's midnight UTC
// ("2024-01-30T00:00:00.000Z"). Either way the date part is the game date; converting the timestamp
// to Eastern time would move every game to the day before.
std::optional<std::string> BdlGameDate(std::string_view s) {
  s = Trim(s);
  if (IsIsoDate(s)) return std::string(s);
  if (s.size() > 10 && IsIsoDate(s.substr(0, 10)) && ParseIsoTimestamp(s)) return std::string(s.substr(0, 10));
  return std::nullopt;
}

void ParseBdlPlayer(const json& item, BoxScoreRecord* r, ItemProblems* p) {
  const json* player = Find(item, "player");
  if (player == nullptr) {
    p->Add("player", "field 'player' is missing");
    return;
  }
  if (!player->is_object()) {
    p->Add("player", "field 'player' is " + TypeWithArticle(*player) + ", expected an object");
    return;
  }
  const json* id = Find(*player, "id");
  auto pid = id ? AsWhole(*id) : std::nullopt;
  if (!pid) {
    p->Add("player.id", id ? "player.id " + Shown(*id) + " is not a whole number" : "field 'player.id' is missing");
  } else {
    r->source_player_id = "bdl:" + std::to_string(*pid);
  }
  std::string name;
  for (const char* part : {"first_name", "last_name"}) {
    const json* v = Find(*player, part);
    if (v && v->is_string() && !Trim(v->get_ref<const std::string&>()).empty()) {
      if (!name.empty()) name += " ";
      name += std::string(Trim(v->get_ref<const std::string&>()));
    }
  }
  if (name.empty()) p->Add("player", "player has no first_name or last_name");
  r->player_name = std::move(name);
}

std::optional<int64_t> ParseBdlTeam(const json& item, BoxScoreRecord* r, ItemProblems* p) {
  const json* team = Find(item, "team");
  if (team == nullptr) {
    p->Add("team", "field 'team' is missing");
    return std::nullopt;
  }
  if (!team->is_object()) {
    p->Add("team", "field 'team' is " + TypeWithArticle(*team) + ", expected an object");
    return std::nullopt;
  }
  const json* abbr = Find(*team, "abbreviation");
  if (abbr == nullptr || !abbr->is_string()) {
    p->Add("team.abbreviation",
           abbr ? "team.abbreviation " + Shown(*abbr) + " is not text" : "field 'team.abbreviation' is missing");
  } else if (auto code = NormalizeTeam(abbr->get_ref<const std::string&>())) {
    r->team = *code;
  } else {
    p->Add("team.abbreviation", "team " + Shown(*abbr) + " is not an NBA team");
  }
  const json* id = Find(*team, "id");
  return id ? AsWhole(*id) : std::nullopt;
}

void ParseBdlGame(const json& item, std::optional<int64_t> team_id, const std::map<int64_t, std::string>& codes,
                  BoxScoreRecord* r, ItemProblems* p) {
  const json* game = Find(item, "game");
  if (game == nullptr) {
    p->Add("game", "field 'game' is missing");
    return;
  }
  if (!game->is_object()) {
    p->Add("game", "field 'game' is " + TypeWithArticle(*game) + ", expected an object");
    return;
  }
  const json* id = Find(*game, "id");
  auto gid = id ? AsWhole(*id) : std::nullopt;
  if (!gid) {
    p->Add("game.id", id ? "game.id " + Shown(*id) + " is not a whole number" : "field 'game.id' is missing");
  } else {
    r->game_id = "bdl:" + std::to_string(*gid);
  }
  const json* date = Find(*game, "date");
  std::optional<std::string> day;
  if (date && date->is_string()) day = BdlGameDate(date->get_ref<const std::string&>());
  if (!day) {
    p->Add("game.date", date ? "game.date " + Shown(*date) + " is not YYYY-MM-DD or an ISO-8601 timestamp"
                             : "field 'game.date' is missing");
  } else {
    r->game_date = *day;
  }
  const json* home = Find(*game, "home_team_id");
  const json* visitor = Find(*game, "visitor_team_id");
  auto home_id = home ? AsWhole(*home) : std::nullopt;
  auto visitor_id = visitor ? AsWhole(*visitor) : std::nullopt;
  if (!team_id || !home_id || !visitor_id) return;  // opponent unknown; not an error
  std::optional<int64_t> opponent_id;
  if (*team_id == *home_id) {
    opponent_id = visitor_id;
  } else if (*team_id == *visitor_id) {
    opponent_id = home_id;
  }
  if (!opponent_id) {
    p->Add("team.id", "team id " + std::to_string(*team_id) + " is neither home_team_id " + std::to_string(*home_id) +
                          " nor visitor_team_id " + std::to_string(*visitor_id) + " of its game");
    return;
  }
  if (auto it = codes.find(*opponent_id); it != codes.end()) r->opponent = it->second;
}

void ParseBdlNumbers(const json& item, BoxScoreRecord* r, ItemProblems* p) {
  const json* min = Find(item, "min");
  if (min == nullptr) {
    p->Add("min", "field 'min' is missing");
  } else if (auto m = BdlMinutes(*min)) {
    r->minutes = *m;
    if (*m > 70) p->Add("min", "minutes " + Shown(*min) + " out of range (0 to 70)");
  } else {
    p->Add("min", "field 'min' is " + Shown(*min) + ", expected minutes as mm:ss (36:47) or a number (36)");
  }

  const json* pts = Find(item, "pts");
  bool have_points = false;
  if (pts == nullptr) {
    p->Add("pts", "field 'pts' is missing");
  } else if (pts->is_null()) {
    // A player who did not play may carry null stats; with minutes played, null points is a gap.
    if (r->minutes > 0) p->Add("pts", "field 'pts' is null for a player with minutes played");
  } else if (auto v = AsWhole(*pts); v && *v >= 0 && *v < 1000) {
    r->points = static_cast<int>(*v);
    have_points = true;
  } else {
    p->Add("pts", "field 'pts' is " + Shown(*pts) + ", expected a whole number >= 0");
  }

  for (const BdlStat& s : kBdlStats) {
    const json* v = Find(item, s.key);
    if (v == nullptr || v->is_null()) continue;  // unknown for this row
    auto n = AsWhole(*v);
    if (!n || *n < 0 || *n >= 1000) {
      p->Add(s.key, std::string("field '") + s.key + "' is " + Shown(*v) + ", expected a whole number >= 0");
      continue;
    }
    r->*(s.member) = static_cast<int>(*n);
  }
  if (const json* pm = Find(item, "plus_minus"); pm && !pm->is_null()) {
    if (auto n = AsWhole(*pm); n && std::llabs(*n) < 1000) r->plus_minus = static_cast<int>(*n);
  }

  // The same checks as our box_scores CSV, so every source reaches raw_box_scores equally clean.
  if (have_points && r->fgm && r->fg3m && r->ftm && r->points != 2 * *r->fgm + *r->fg3m + *r->ftm) {
    p->Add("pts", "pts " + std::to_string(r->points) +
                      " disagrees with 2*fgm+fg3m+ftm = " + std::to_string(2 * *r->fgm + *r->fg3m + *r->ftm));
  }
  if ((r->fgm && r->fga && *r->fgm > *r->fga) || (r->fg3m && r->fg3a && *r->fg3m > *r->fg3a) ||
      (r->ftm && r->fta && *r->ftm > *r->fta)) {
    p->Add("", "more shots made than attempted");
  }
}

// meta.next_cursor, read the same way for every endpoint: absent or null on the last page. A cursor
// that cannot be read would end the pagination early without a word, so it fails the page.
Status ReadNextCursor(const json& doc, std::string_view location, std::optional<int64_t>* next_cursor) {
  const json* meta = Find(doc, "meta");
  if (meta == nullptr || !meta->is_object()) return OkStatus();
  const json* cursor = Find(*meta, "next_cursor");
  if (cursor == nullptr || cursor->is_null()) return OkStatus();
  auto c = AsWhole(*cursor);
  if (!c) return ShapeChanged(location, "meta.next_cursor " + Shown(*cursor) + " is not a whole number", doc);
  *next_cursor = *c;
  return OkStatus();
}

// A side of a /v1/games matchup as messages show it: "?" when the page does not name the team.
std::string TeamAbbr(const json& game, const char* key) {
  const json* team = Find(game, key);
  const json* abbr = team ? Find(*team, "abbreviation") : nullptr;
  if (abbr == nullptr || !abbr->is_string()) return "?";
  std::string_view a = Trim(abbr->get_ref<const std::string&>());
  return a.empty() ? "?" : std::string(a);
}

}  // namespace

StatusOr<BalldontlieStatsPage> ParseBalldontlieStats(std::string_view text, std::string_view location) {
  json doc;
  RETURN_IF_ERROR(ParseDocument(text, location, &doc));
  if (!doc.is_object()) {
    return ShapeChanged(location, "the root is " + TypeWithArticle(doc) + ", expected an object with 'data'", doc);
  }
  const json* data = Find(doc, "data");
  if (data == nullptr || !data->is_array()) return MissingField(location, "data", doc, data);

  BalldontlieStatsPage page;
  RETURN_IF_ERROR(ReadNextCursor(doc, location, &page.next_cursor));

  std::vector<const json*> items;
  for (const json& item : *data) {
    if (item.is_object()) items.push_back(&item);
  }
  if (auto absent = AbsentEverywhere(items, BdlExpectedFields()); !absent.empty()) {
    // Naming what the rows have instead turns "missing 'pts'" into "renamed to 'points'".
    std::vector<std::string> known = BdlExpectedFields();
    known.insert(known.end(), {"id", "fg_pct", "fg3_pct", "ft_pct", "plus_minus"});
    std::vector<std::string> unknown;
    for (auto it = items[0]->begin(); it != items[0]->end(); ++it) {
      if (std::find(known.begin(), known.end(), it.key()) == known.end()) unknown.push_back(it.key());
    }
    std::string what = (absent.size() == 1 ? "field " : "fields ") + QuotedList(absent) + " missing in all " +
                       std::to_string(items.size()) + " records";
    if (!unknown.empty()) what += "; unrecognized fields present: " + QuotedList(unknown);
    return ShapeChanged(location, what, doc);
  }

  const std::map<int64_t, std::string> codes = TeamCodesById(*data);
  for (size_t i = 0; i < data->size(); ++i) {
    const json& item = (*data)[i];
    ItemProblems problems(At(location, Index("$.data", i)));
    BoxScoreRecord r;
    if (!item.is_object()) {
      problems.Add("", "item is " + TypeWithArticle(item) + ", expected an object");
      page.stats.rejects.push_back(problems.ToReject("", item));
      continue;
    }
    ParseBdlPlayer(item, &r, &problems);
    std::optional<int64_t> team_id = ParseBdlTeam(item, &r, &problems);
    ParseBdlGame(item, team_id, codes, &r, &problems);
    ParseBdlNumbers(item, &r, &problems);
    if (!problems.empty()) {
      std::string who = r.player_name.empty() ? "" : r.player_name + ": ";
      page.stats.rejects.push_back(problems.ToReject(who, item));
      continue;
    }
    r.source = "balldontlie";
    r.location = At(location, Index("$.data", i));
    page.stats.records.push_back(std::move(r));
  }
  return page;
}

StatusOr<BdlGamesPage> ParseBdlGamesPage(std::string_view text, std::string_view location) {
  json doc;
  RETURN_IF_ERROR(ParseDocument(text, location, &doc));
  if (!doc.is_object()) {
    return ShapeChanged(location, "the root is " + TypeWithArticle(doc) + ", expected an object", doc);
  }
  const json* data = Find(doc, "data");
  if (data == nullptr || !data->is_array()) return MissingField(location, "data", doc, data);
  BdlGamesPage page;
  RETURN_IF_ERROR(ReadNextCursor(doc, location, &page.next_cursor));
  std::vector<const json*> items;
  for (const json& g : *data) {
    if (g.is_object()) items.push_back(&g);
  }
  if (auto absent = AbsentEverywhere(items, {"id", "status", "home_team", "visitor_team"}); !absent.empty()) {
    return ShapeChanged(location,
                        (absent.size() == 1 ? "field " : "fields ") + QuotedList(absent) + " missing in all " +
                            std::to_string(items.size()) + " games" + FirstItemHas(items, "game"),
                        doc);
  }
  for (const json* g : items) {
    const json* id = Find(*g, "id");
    auto gid = id ? AsWhole(*id) : std::nullopt;
    const json* status = Find(*g, "status");
    if (!gid) {
      return ShapeChanged(
          location, "a game's id is " + (id ? Shown(*id) : std::string("missing")) + ", expected a whole number", doc);
    }
    page.games.push_back({*gid, status && status->is_string() ? status->get<std::string>() : "",
                          TeamAbbr(*g, "visitor_team") + " at " + TeamAbbr(*g, "home_team")});
  }
  return page;
}

}  // namespace nbaprops::pipeline
