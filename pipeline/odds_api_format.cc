// The Odds API v4 (api_formats.h): one event's odds -> PropRecords (ParseOddsApiEventOdds) and the
// events list -> OddsEvents (ParseOddsEvents).
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/api_formats.h"
#include "pipeline/json_payload.h"

namespace nbaprops::pipeline {

using json_payload::AbsentEverywhere;
using json_payload::AsWhole;
using json_payload::At;
using json_payload::Find;
using json_payload::FirstItemHas;
using json_payload::Index;
using json_payload::json;
using json_payload::MissingField;
using json_payload::ParseDocument;
using json_payload::QuotedList;
using json_payload::RawText;
using json_payload::ShapeChanged;
using json_payload::Shown;
using json_payload::TypeWithArticle;

namespace {

// ISO-8601 string, or Unix seconds when the payload was fetched with dateFormat=unix.
std::optional<int64_t> AsTimestamp(const json& v) {
  if (v.is_string()) return ParseIsoTimestamp(Trim(v.get_ref<const std::string&>()));
  return AsWhole(v);
}

// Why a commence_time that reads as a time still cannot date a game (EasternDateInRange).
constexpr char kOutsideGameDates[] = "a time whose Eastern date is outside 1900-01-01 to 2200-12-31";

std::string FormatLine(double line) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", line);
  return buf;
}

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

}  // namespace

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
  // Props are filed under the Eastern calendar day of tip-off: a 7:30 pm ET game is 00:30Z the next day.
  const std::optional<int32_t> game_day = EasternDateInRange(*tipoff);
  if (!game_day) {
    return ShapeChanged(location, "field 'commence_time' is " + Shown(*commence) + ", " + kOutsideGameDates, doc);
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

  const std::string game_date = FormatIsoDate(*game_day);
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

StatusOr<std::vector<OddsEvent>> ParseOddsEvents(std::string_view text, std::string_view location) {
  json doc;
  RETURN_IF_ERROR(ParseDocument(text, location, &doc));
  if (!doc.is_array()) {
    return ShapeChanged(location, "the root is " + TypeWithArticle(doc) + ", expected an array of events", doc);
  }
  std::vector<const json*> items;
  for (const json& e : doc) {
    if (e.is_object()) items.push_back(&e);
  }
  if (auto absent = AbsentEverywhere(items, {"id", "commence_time", "home_team", "away_team"}); !absent.empty()) {
    return ShapeChanged(location,
                        (absent.size() == 1 ? "field " : "fields ") + QuotedList(absent) + " missing in all " +
                            std::to_string(items.size()) + " events" + FirstItemHas(items, "event"),
                        doc);
  }
  std::vector<OddsEvent> out;
  for (const json* e : items) {
    const json* id = Find(*e, "id");
    const json* t = Find(*e, "commence_time");
    if (!id || !id->is_string() || id->get_ref<const std::string&>().empty()) {
      return ShapeChanged(location,
                          "an event's id is " + (id ? Shown(*id) : std::string("missing")) + ", expected text", doc);
    }
    std::optional<int64_t> when = t ? AsTimestamp(*t) : std::nullopt;
    if (!when) {
      return ShapeChanged(location,
                          "event " + id->get<std::string>() + ": commence_time " +
                              (t ? Shown(*t) : std::string("missing")) + " is not a time",
                          doc);
    }
    // The scraper compares the date with the partition's: it must be a date at all.
    std::optional<int32_t> day = EasternDateInRange(*when);
    if (!day) {
      return ShapeChanged(
          location, "event " + id->get<std::string>() + ": commence_time " + Shown(*t) + " is " + kOutsideGameDates,
          doc);
    }
    const json* home = Find(*e, "home_team");
    const json* away = Find(*e, "away_team");
    out.push_back({id->get<std::string>(),
                   (away && away->is_string() ? away->get<std::string>() : "?") + " at " +
                       (home && home->is_string() ? home->get<std::string>() : "?"),
                   FormatIsoDate(*day)});
  }
  return out;
}

}  // namespace nbaprops::pipeline
