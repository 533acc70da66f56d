#include "pipeline/api_formats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/formats.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline {
namespace {

// ordered_json keeps keys in the payload's order, so a Reject's raw text reads like the original item.
using json = nlohmann::ordered_json;

constexpr size_t kMaxRawBytes = 2048;

// Below this many items, a field absent from every item is treated as a record-level problem: one
// record missing `pts` says nothing about the API's shape, and its Reject keeps it visible.
constexpr size_t kMinItemsForShapeCheck = 2;

std::string At(std::string_view location, std::string_view json_path) {
  return std::string(location) + ":" + std::string(json_path);
}

std::string Index(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

// `replace`: a dump kept for humans must never fail on odd bytes.
std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string RawText(const json& v) { return Truncate(Dump(v), kMaxRawBytes); }

// A value as quoted in a message: short, strings in quotes.
std::string Shown(const json& v) {
  if (v.is_string()) return "'" + Truncate(v.get_ref<const std::string&>(), 40) + "'";
  return Truncate(Dump(v), 40);
}

std::string TypeWithArticle(const json& v) {
  if (v.is_null()) return "null";
  std::string t = v.type_name();
  return (t == "array" || t == "object") ? "an " + t : "a " + t;
}

const json* Find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Whole JSON numbers: 23, and 23.0 as some re-exports write them.
std::optional<int64_t> AsWhole(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// ISO-8601 string, or Unix seconds when the payload was fetched with dateFormat=unix.
std::optional<int64_t> AsTimestamp(const json& v) {
  if (v.is_string()) return ParseIsoTimestamp(Trim(v.get_ref<const std::string&>()));
  return AsWhole(v);
}

std::string FormatLine(double line) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", line);
  return buf;
}

// nlohmann reports where parsing stopped only through its exception; this is the one call that can
// throw, and the exception stops here as a Status.
Status ParseDocument(std::string_view text, std::string_view location, json* out) {
  try {
    *out = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string detail = e.what();
    if (size_t cut = detail.find("] "); cut != std::string::npos) detail.erase(0, cut + 2);
    return InvalidArgumentError(std::string(location) + ": not valid JSON (truncated?) at byte " +
                                std::to_string(e.byte) + ": " + detail +
                                "; fetch the response again or restore the file from its source");
  }
  return OkStatus();
}

std::string FieldList(const json& obj) {
  std::vector<std::string> keys;
  for (auto it = obj.begin(); it != obj.end() && keys.size() < 12; ++it) keys.push_back(it.key());
  if (obj.size() > keys.size()) keys.push_back("...");
  return keys.empty() ? "(none)" : Join(keys, ", ");
}

// The payload's shape is not the one this adapter was written for (kDataLoss = "schema_mismatch").
// The message lists what the root does have and any error text the API sent, since a renamed field
// or an error body ({"message": "..."}) saved as if it were data is the usual cause.
Status ShapeChanged(std::string_view location, const std::string& what, const json& root) {
  std::string msg = std::string(location) + ": " + what + " (the response shape changed?)";
  if (root.is_object()) {
    msg += "; the root has fields: " + FieldList(root);
    for (const char* k : {"message", "error"}) {
      const json* said = Find(root, k);
      if (said && said->is_string()) {
        msg += "; the API answered: " + Truncate(said->get_ref<const std::string&>(), 200);
        break;
      }
    }
  }
  return DataLossError(msg + "; update pipeline/api_formats.cc if the API changed");
}

Status MissingField(std::string_view location, const std::string& field, const json& root, const json* value) {
  if (value == nullptr) return ShapeChanged(location, "field '" + field + "' is missing", root);
  return ShapeChanged(location, "field '" + field + "' is " + TypeWithArticle(*value), root);
}

// Everything wrong with one item, reported as a single Reject at the first problem's path: one item
// read is one record or one reject, however many problems it has.
class ItemProblems {
 public:
  explicit ItemProblems(std::string item_location) : item_location_(std::move(item_location)) {}

  // `field` is a path below the item ("player.id"), or empty for the item itself.
  void Add(std::string_view field, std::string reason) {
    if (reasons_.empty()) {
      first_location_ = field.empty() ? item_location_ : item_location_ + "." + std::string(field);
    }
    reasons_.push_back(std::move(reason));
  }
  bool empty() const { return reasons_.empty(); }
  Reject ToReject(std::string_view prefix, const json& raw) const {
    return {first_location_, std::string(prefix) + Join(reasons_, "; "), RawText(raw)};
  }

 private:
  std::string item_location_;
  std::string first_location_;
  std::vector<std::string> reasons_;
};

// Reports the first fields named in `keys` that are absent from every object in `items`: a field
// renamed upstream would otherwise reject every record one by one and hide the one real message.
std::vector<std::string> AbsentEverywhere(const std::vector<const json*>& items, const std::vector<std::string>& keys) {
  std::vector<std::string> absent;
  if (items.size() < kMinItemsForShapeCheck) return absent;
  for (const std::string& k : keys) {
    bool seen = false;
    for (const json* item : items) {
      if (item->contains(k)) {
        seen = true;
        break;
      }
    }
    if (!seen) absent.push_back(k);
  }
  return absent;
}

std::string QuotedList(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back("'" + n + "'");
  return Join(q, ", ");
}

// ---------------------------------------------------------------------------------------------
// balldontlie /v1/stats

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

// ---------------------------------------------------------------------------------------------
// The Odds API event odds

constexpr char kPlayerPoints[] = "player_points";

bool IsPlayerPointsMarket(const json& market) {
  const json* key = Find(market, "key");
  return key && key->is_string() && key->get_ref<const std::string&>() == kPlayerPoints;
}

// American odds are whole numbers at or beyond +/-100; 1.91 means the payload was fetched with
// oddsFormat=decimal.
std::optional<int> AmericanPrice(const json& v) {
  auto w = AsWhole(v);
  if (!w || (*w > -100 && *w < 100) || *w > 100000 || *w < -100000) return std::nullopt;
  return static_cast<int>(*w);
}

// One record in the making: the Over and Under of one player at one line, at one bookmaker.
struct PropPair {
  std::string player;
  double line = 0;
  std::string location;  // the first outcome's path
  bool seen_over = false;
  bool seen_under = false;
  std::optional<int> over_price;
  std::optional<int> under_price;
  json outcomes = json::array();
  std::vector<std::string> problems;
};

// captured_at: the freshest stamp the API gives for these prices; fetched_at only when it has none.
// A stamp that is present but unreadable is a problem, not a reason to fall back silently.
int64_t CaptureTime(const json& book, const json& market, int64_t fetched_at, std::string* problem) {
  for (const json* holder : {&market, &book}) {
    const json* stamp = Find(*holder, "last_update");
    if (stamp == nullptr || stamp->is_null()) continue;
    if (auto t = AsTimestamp(*stamp)) return *t;
    *problem = std::string(holder == &market ? "market" : "bookmaker") + " last_update " + Shown(*stamp) +
               " is not an ISO-8601 timestamp";
    return fetched_at;
  }
  return fetched_at;
}

void ParseOddsMarket(const json& book, const std::string& sportsbook, const json& market, const std::string& mpath,
                     std::string_view location, const std::string& game_date, int64_t fetched_at,
                     Parsed<PropRecord>* out) {
  const json* outcomes = Find(market, "outcomes");
  if (outcomes == nullptr || !outcomes->is_array()) {
    std::string what = outcomes ? "is " + TypeWithArticle(*outcomes) : "is missing";
    out->rejects.push_back({At(location, mpath + ".outcomes"),
                            "player_points market of " + (sportsbook.empty() ? "a bookmaker" : sportsbook) +
                                ": field 'outcomes' " + what + ", expected an array",
                            RawText(market)});
    return;
  }
  std::string stamp_problem;
  int64_t captured_at = CaptureTime(book, market, fetched_at, &stamp_problem);
  const std::string book_label = sportsbook.empty() ? "a bookmaker with no key" : sportsbook;

  std::vector<PropPair> pairs;
  std::map<std::pair<std::string, double>, size_t> pair_index;
  for (size_t k = 0; k < outcomes->size(); ++k) {
    const json& o = (*outcomes)[k];
    const std::string opath = Index(mpath + ".outcomes", k);
    auto reject = [&](const std::string& field, const std::string& reason) {
      out->rejects.push_back({At(location, field.empty() ? opath : opath + "." + field), reason, RawText(o)});
    };
    if (!o.is_object()) {
      reject("", "outcome is " + TypeWithArticle(o) + ", expected an object");
      continue;
    }
    const json* name = Find(o, "name");
    std::string side = name && name->is_string() ? ToLower(Trim(name->get_ref<const std::string&>())) : "";
    if (side != "over" && side != "under") {
      reject("name", "outcome name " + (name ? Shown(*name) : std::string("(missing)")) + " is neither Over nor Under");
      continue;
    }
    const std::string side_label = side == "over" ? "Over" : "Under";
    const json* desc = Find(o, "description");
    std::string player = desc && desc->is_string() ? std::string(Trim(desc->get_ref<const std::string&>())) : "";
    if (player.empty()) {
      reject("description", "no player: " + book_label + "'s " + side_label + " outcome has no 'description'");
      continue;
    }
    const json* point = Find(o, "point");
    if (point == nullptr || point->is_null()) {
      const json* price = Find(o, "price");
      reject("point", "no line: " + book_label + "'s " + side_label + " for " + player + " has no 'point'" +
                          (price ? " (price " + Shown(*price) + ")" : ""));
      continue;
    }
    if (!point->is_number() || !std::isfinite(point->get<double>())) {
      reject("point", "line " + Shown(*point) + " for " + player + " is not a number");
      continue;
    }
    const double line = point->get<double>();
    auto [it, inserted] = pair_index.emplace(std::make_pair(player, line), pairs.size());
    if (inserted) {
      pairs.emplace_back();
      pairs.back().player = player;
      pairs.back().line = line;
      pairs.back().location = At(location, opath);
    }
    PropPair& pair = pairs[it->second];
    pair.outcomes.push_back(o);

    std::optional<int> price;
    const json* p = Find(o, "price");
    if (p && !p->is_null()) {
      price = AmericanPrice(*p);
      if (!price) {
        pair.problems.push_back(side_label + " price " + Shown(*p) +
                                " is not American odds (fetch with oddsFormat=american)");
      }
    }
    bool& seen = side == "over" ? pair.seen_over : pair.seen_under;
    std::optional<int>& slot = side == "over" ? pair.over_price : pair.under_price;
    if (seen && slot != price) {
      // Two different prices for the same side of the same line: no way to tell which is current.
      pair.problems.push_back("two " + side_label + " outcomes with different prices");
    }
    seen = true;
    if (price) slot = price;
  }

  for (PropPair& pair : pairs) {
    if (sportsbook.empty()) pair.problems.push_back("the bookmaker has no 'key'");
    if (!stamp_problem.empty()) pair.problems.push_back(stamp_problem);
    if (!pair.over_price && !pair.under_price && pair.problems.empty()) {
      pair.problems.push_back("no price on either side");
    }
    if (pair.line <= 0 || pair.line > 100) {
      pair.problems.push_back("line " + FormatLine(pair.line) + " is out of range");
    } else if (std::fmod(pair.line * 2, 1.0) != 0) {
      pair.problems.push_back("line " + FormatLine(pair.line) + " is not a multiple of 0.5");
    }
    if (!pair.problems.empty()) {
      out->rejects.push_back(
          {pair.location,
           book_label + ", " + pair.player + " " + FormatLine(pair.line) + ": " + Join(pair.problems, "; "),
           RawText(pair.outcomes)});
      continue;
    }
    PropRecord r;
    r.captured_at_utc = captured_at;
    r.game_date = game_date;
    r.player_name = pair.player;
    r.sportsbook = sportsbook;
    r.market = kPlayerPoints;
    r.line = pair.line;
    r.over_price = pair.over_price;
    r.under_price = pair.under_price;
    r.snapshot = "live";
    r.source = "the_odds_api";
    r.location = pair.location;
    out->records.push_back(std::move(r));
  }
}

// ---------------------------------------------------------------------------------------------
// Shape detection

// Walks the start of a document without building it and remembers its first levels: root keys,
// the keys of data[0] and of meta. Whatever was seen before a syntax error is kept, so a truncated
// download is still recognized.
class ShapeSniffer : public nlohmann::json_sax<json> {
 public:
  bool root_is_object = false;
  bool data_is_array = false;
  std::set<std::string> root_keys;
  std::set<std::string> first_item_keys;  // keys of data[0]
  std::set<std::string> meta_keys;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Value();
    if (stack_.empty()) root_is_object = true;
    stack_.push_back({false, "", -1});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = k;
    if (stack_.size() == 1) root_keys.insert(k);
    if (InFirstDataItem()) first_item_keys.insert(k);
    if (stack_.size() == 2 && RootKeyIs("meta") && !stack_[1].is_array) meta_keys.insert(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    // data[0] is all detection needs from the rows; stop rather than walk a 100-row page.
    return !(stack_.size() == 2 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0);
  }
  bool start_array(std::size_t) override {
    Value();
    if (stack_.size() == 1 && RootKeyIs("data") && !stack_[0].is_array) data_is_array = true;
    stack_.push_back({true, "", -1});
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool is_array;
    std::string key;  // current key of an object
    int64_t index;    // current element of an array
  };

  bool Value() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
    return true;
  }
  bool RootKeyIs(std::string_view k) const { return !stack_.empty() && !stack_[0].is_array && stack_[0].key == k; }
  bool InFirstDataItem() const {
    return stack_.size() == 3 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0 && !stack_[2].is_array;
  }

  std::vector<Frame> stack_;
};

ShapeSniffer Sniff(std::string_view text) {
  ShapeSniffer sniffer;
  json::sax_parse(text.begin(), text.end(), &sniffer);  // false on a syntax error or an early stop: fine
  return sniffer;
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
  if (const json* meta = Find(doc, "meta"); meta && meta->is_object()) {
    const json* cursor = Find(*meta, "next_cursor");
    if (cursor && !cursor->is_null()) {
      // A cursor we cannot read would end the pagination early without a word.
      auto c = AsWhole(*cursor);
      if (!c) return ShapeChanged(location, "meta.next_cursor " + Shown(*cursor) + " is not a whole number", doc);
      page.next_cursor = *c;
    }
  }

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

// What counts as one record read: one (bookmaker, player description, point) pair of a
// player_points market, because that is one PropRecord (line, over price, under price) in our
// tables; a lone Over or Under at a line is a pair with one price. An outcome that cannot join a
// pair (no point, no player, neither Over nor Under) is one record read and one reject. Other
// markets (player_rebounds, h2h, ...) are not read at all, so they are neither records nor rejects.
StatusOr<Parsed<PropRecord>> ParseOddsApiEventOdds(std::string_view text, std::string_view location,
                                                   int64_t fetched_at) {
  json doc;
  RETURN_IF_ERROR(ParseDocument(text, location, &doc));
  if (!doc.is_object()) {
    std::string what = "the root is " + TypeWithArticle(doc) + ", expected one event object";
    if (doc.is_array()) what += " (an array is the all-events /odds endpoint; save /events/{eventId}/odds)";
    return ShapeChanged(location, what, doc);
  }
  const json* commence = Find(doc, "commence_time");
  if (commence == nullptr || commence->is_null()) return MissingField(location, "commence_time", doc, nullptr);
  auto tipoff = AsTimestamp(*commence);
  if (!tipoff) {
    return ShapeChanged(location, "field 'commence_time' is " + Shown(*commence) + ", expected an ISO-8601 timestamp",
                        doc);
  }
  const json* books = Find(doc, "bookmakers");
  if (books == nullptr || !books->is_array()) return MissingField(location, "bookmakers", doc, books);

  std::vector<const json*> outcomes;
  for (const json& book : *books) {
    const json* markets = Find(book, "markets");
    if (markets == nullptr || !markets->is_array()) continue;
    for (const json& market : *markets) {
      if (!IsPlayerPointsMarket(market)) continue;
      const json* os = Find(market, "outcomes");
      if (os == nullptr || !os->is_array()) continue;
      for (const json& o : *os) {
        if (o.is_object()) outcomes.push_back(&o);
      }
    }
  }
  if (auto absent = AbsentEverywhere(outcomes, {"name", "description", "price", "point"}); !absent.empty()) {
    return ShapeChanged(location,
                        (absent.size() == 1 ? "field " : "fields ") + QuotedList(absent) + " missing in all " +
                            std::to_string(outcomes.size()) + " player_points outcomes",
                        doc);
  }

  // Props are filed under the Eastern calendar day of tip-off: a 7:30 pm ET game is 00:30Z the next day.
  const std::string game_date = FormatIsoDate(EasternDate(*tipoff));
  Parsed<PropRecord> out;
  for (size_t i = 0; i < books->size(); ++i) {
    const json& book = (*books)[i];
    const std::string bpath = Index("$.bookmakers", i);
    if (!book.is_object()) {
      out.rejects.push_back(
          {At(location, bpath), "bookmaker entry is " + TypeWithArticle(book) + ", expected an object", RawText(book)});
      continue;
    }
    const json* key = Find(book, "key");
    const std::string sportsbook = key && key->is_string() ? ToLower(Trim(key->get_ref<const std::string&>())) : "";
    const json* markets = Find(book, "markets");
    if (markets == nullptr || !markets->is_array()) {
      out.rejects.push_back({At(location, bpath + ".markets"),
                             (sportsbook.empty() ? std::string("a bookmaker") : sportsbook) + ": field 'markets' " +
                                 (markets ? "is " + TypeWithArticle(*markets) : std::string("is missing")) +
                                 ", expected an array",
                             RawText(book)});
      continue;
    }
    for (size_t j = 0; j < markets->size(); ++j) {
      const json& market = (*markets)[j];
      if (!IsPlayerPointsMarket(market)) continue;
      ParseOddsMarket(book, sportsbook, market, Index(bpath + ".markets", j), location, game_date, fetched_at, &out);
    }
  }
  return out;
}

bool LooksLikeBalldontlieStats(std::string_view text) {
  ShapeSniffer s = Sniff(text);
  if (!s.root_is_object || !s.data_is_array) return false;
  int hits = 0;
  for (const char* k : {"pts", "min", "player", "team", "game", "turnover", "fg3m"}) hits += s.first_item_keys.count(k);
  if (hits >= 2) return true;
  // An empty last page has no rows to look at; its meta still has balldontlie's pagination fields.
  return s.first_item_keys.empty() && (s.meta_keys.count("next_cursor") || s.meta_keys.count("per_page"));
}

bool LooksLikeOddsApiEventOdds(std::string_view text) {
  ShapeSniffer s = Sniff(text);
  if (!s.root_is_object || !s.root_keys.count("bookmakers")) return false;
  return s.root_keys.count("commence_time") || s.root_keys.count("sport_key") || s.root_keys.count("home_team");
}

}  // namespace nbaprops::pipeline
