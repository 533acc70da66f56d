// ESPN scoreboard -> GameRecords (ParseEspnScoreboard in espn_format.h).
#include "pipeline/espn_format.h"

#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/json_payload.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline {

using json_payload::AbsentEverywhere;
using json_payload::AsWhole;
using json_payload::At;
using json_payload::Find;
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

// ESPN writes "2024-03-02T00:00Z" (no seconds); ParseIsoTimestamp wants them.
std::optional<int64_t> EspnTime(const json& v) {
  if (!v.is_string()) return std::nullopt;
  std::string s(Trim(v.get_ref<const std::string&>()));
  if (s.size() == 17 && s[10] == 'T' && s[13] == ':' && s[16] == 'Z') s.insert(16, ":00");
  return ParseIsoTimestamp(s);
}

// The first competition of an event (NBA events have exactly one).
const json* Competition(const json& event) {
  const json* comps = Find(event, "competitions");
  if (comps == nullptr || !comps->is_array() || comps->empty() || !(*comps)[0].is_object()) return nullptr;
  return &(*comps)[0];
}

// status.type of the event, else of its competition.
const json* StatusType(const json& event) {
  const json* status = Find(event, "status");
  if (status == nullptr) {
    if (const json* comp = Competition(event)) status = Find(*comp, "status");
  }
  return status ? Find(*status, "type") : nullptr;
}

std::optional<std::string> StatusFromType(const json& type) {
  // The id is a string in the API ("3"); accept a number too.
  std::optional<int64_t> id;
  if (const json* v = Find(type, "id")) {
    if (v->is_string()) {
      id = ParseInt(Trim(v->get_ref<const std::string&>()));
    } else {
      id = AsWhole(*v);
    }
  }
  if (id == 1) return "scheduled";
  if (id == 2) return "in_progress";
  if (id == 3) return "final";
  const json* name = Find(type, "name");
  if (name && name->is_string()) {
    const std::string& n = name->get_ref<const std::string&>();
    if (n == "STATUS_POSTPONED") return "postponed";
    if (n == "STATUS_CANCELED") return "canceled";
  }
  const json* state = Find(type, "state");
  if (state && state->is_string()) {
    const std::string& s = state->get_ref<const std::string&>();
    if (s == "pre") return "scheduled";
    if (s == "in") return "in_progress";
    if (s == "post") return "final";
  }
  return std::nullopt;
}

std::optional<int> Score(const json& v) {
  if (v.is_string()) {
    auto n = ParseInt(Trim(v.get_ref<const std::string&>()));
    if (n && *n >= 0 && *n < 400) return static_cast<int>(*n);
    return std::nullopt;
  }
  if (auto n = AsWhole(v); n && *n >= 0 && *n < 400) return static_cast<int>(*n);
  return std::nullopt;
}

struct Side {
  std::string team;
  std::optional<int> score;
  bool seen = false;
};

void ParseCompetitors(const json& comp, bool want_scores, Side* home, Side* away, ItemProblems* p) {
  const json* list = Find(comp, "competitors");
  if (list == nullptr || !list->is_array()) {
    p->Add("competitions[0].competitors", list ? "competitors is " + TypeWithArticle(*list) + ", expected an array"
                                               : "field 'competitions[0].competitors' is missing");
    return;
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const json& c = (*list)[i];
    const std::string at = Index("competitions[0].competitors", i);
    const json* ha = Find(c, "homeAway");
    Side* side = nullptr;
    if (ha && ha->is_string() && ha->get_ref<const std::string&>() == "home") side = home;
    if (ha && ha->is_string() && ha->get_ref<const std::string&>() == "away") side = away;
    if (side == nullptr) {
      p->Add(at + ".homeAway",
             ha ? "homeAway " + Shown(*ha) + " is not 'home' or 'away'" : "field 'homeAway' is missing");
      continue;
    }
    if (side->seen) {
      p->Add(at + ".homeAway", "two competitors are " + Shown(*ha));
      continue;
    }
    side->seen = true;
    const json* team = Find(c, "team");
    const json* abbr = team ? Find(*team, "abbreviation") : nullptr;
    if (abbr == nullptr || !abbr->is_string()) {
      p->Add(at + ".team.abbreviation",
             abbr ? "team.abbreviation " + Shown(*abbr) + " is not text" : "field 'team.abbreviation' is missing");
    } else if (auto code = NormalizeTeam(abbr->get_ref<const std::string&>())) {
      side->team = *code;
    } else {
      p->Add(at + ".team.abbreviation", "team " + Shown(*abbr) + " is not an NBA team");
    }
    if (!want_scores) continue;
    const json* score = Find(c, "score");
    if (score == nullptr) {
      p->Add(at + ".score", "field 'score' is missing");
    } else if (auto s = Score(*score)) {
      side->score = *s;
    } else {
      p->Add(at + ".score", "score " + Shown(*score) + " is not a whole number of points written as text");
    }
  }
  if (!home->seen) p->Add("competitions[0].competitors", "no competitor has homeAway 'home'");
  if (!away->seen) p->Add("competitions[0].competitors", "no competitor has homeAway 'away'");
}

// Names fields the adapter needs that no event (or no competitor) has: a rename upstream.
Status CheckShape(const json& events, std::string_view location, const json& doc) {
  std::vector<const json*> items, competitors;
  for (const json& e : events) {
    if (!e.is_object()) continue;
    items.push_back(&e);
    if (const json* comp = Competition(e)) {
      if (const json* list = Find(*comp, "competitors"); list && list->is_array()) {
        for (const json& c : *list) {
          if (c.is_object()) competitors.push_back(&c);
        }
      }
    }
  }
  std::vector<std::string> absent = AbsentEverywhere(items, {"id", "date", "competitions"});
  // `status` may sit on the event or on its competition; only both missing everywhere is a rename.
  bool any_status = false;
  for (const json* e : items) any_status = any_status || StatusType(*e) != nullptr;
  if (items.size() >= 2 && !any_status) absent.push_back("status.type");
  for (const std::string& f : AbsentEverywhere(competitors, {"homeAway", "team", "score"})) {
    absent.push_back("competitions[0].competitors[]." + f);
  }
  if (absent.empty()) return OkStatus();
  std::string what = (absent.size() == 1 ? "field " : "fields ") + QuotedList(absent) + " missing in all " +
                     std::to_string(items.size()) + " events";
  // Show what the first event (or competitor) has instead: "score" renamed "points" reads at once.
  const json* sample = items.empty() ? nullptr : items[0];
  if (!competitors.empty() && absent.back().find("competitors") != std::string::npos) sample = competitors[0];
  if (sample) {
    std::vector<std::string> keys;
    for (auto it = sample->begin(); it != sample->end() && keys.size() < 15; ++it) keys.push_back(it.key());
    what += "; " + std::string(sample == items[0] ? "the first event" : "the first competitor") +
            " has: " + QuotedList(keys);
  }
  return ShapeChanged(location, what, doc);
}

}  // namespace

StatusOr<Parsed<GameRecord>> ParseEspnScoreboard(std::string_view text, std::string_view location) {
  json doc;
  RETURN_IF_ERROR(ParseDocument(text, location, &doc));
  if (!doc.is_object()) {
    return ShapeChanged(location, "the root is " + TypeWithArticle(doc) + ", expected an object with 'events'", doc);
  }
  const json* events = Find(doc, "events");
  if (events == nullptr || !events->is_array()) return MissingField(location, "events", doc, events);
  RETURN_IF_ERROR(CheckShape(*events, location, doc));

  Parsed<GameRecord> out;
  for (size_t i = 0; i < events->size(); ++i) {
    const json& e = (*events)[i];
    const std::string path = Index("$.events", i);
    ItemProblems problems(At(location, path));
    if (!e.is_object()) {
      problems.Add("", "event is " + TypeWithArticle(e) + ", expected an object");
      out.rejects.push_back(problems.ToReject("", e));
      continue;
    }
    GameRecord g;
    const json* id = Find(e, "id");
    std::optional<int64_t> event_id;
    if (id && id->is_string()) {
      event_id = ParseInt(Trim(id->get_ref<const std::string&>()));
    } else if (id) {
      event_id = AsWhole(*id);
    }
    if (!event_id || *event_id <= 0) {
      problems.Add("id", id ? "id " + Shown(*id) + " is not an ESPN event id" : "field 'id' is missing");
    } else {
      g.game_id = "espn:" + std::to_string(*event_id);
    }
    const json* date = Find(e, "date");
    std::optional<int64_t> tip = date ? EspnTime(*date) : std::nullopt;
    // The game date must be one the rest of the pipeline accepts (1900-01-01T00:00Z is 1899 in New York).
    std::optional<int32_t> day = tip ? EasternDateInRange(*tip) : std::nullopt;
    if (!tip) {
      problems.Add("date", date ? "date " + Shown(*date) + " is not an ISO-8601 time (2024-03-02T00:00Z)"
                                : "field 'date' is missing");
    } else if (!day) {
      problems.Add("date",
                   "date " + Shown(*date) + " is a time whose Eastern date is outside 1900-01-01 to 2200-12-31");
    } else {
      g.tipoff_utc = *tip;
      g.game_date = FormatIsoDate(*day);
    }
    const json* type = StatusType(e);
    std::optional<std::string> status = type ? StatusFromType(*type) : std::nullopt;
    if (!status) {
      problems.Add("status.type", type ? "status.type " + Shown(*type) + " has no known id (1, 2, 3), state or name"
                                       : "field 'status.type' is missing");
    } else {
      g.status = *status;
    }
    const json* comp = Competition(e);
    Side home, away;
    if (comp == nullptr) {
      problems.Add("competitions", "field 'competitions' is missing or empty");
    } else {
      ParseCompetitors(*comp, status == "in_progress" || status == "final", &home, &away, &problems);
    }
    if (!home.team.empty() && home.team == away.team) {
      problems.Add("competitions[0].competitors", "home and away are both " + home.team);
    }
    if (!problems.empty()) {
      out.rejects.push_back(problems.ToReject("", e));
      continue;
    }
    g.home_team = home.team;
    g.away_team = away.team;
    g.home_points = home.score;
    g.away_points = away.score;
    g.source = "espn";
    g.location = At(location, path);
    out.records.push_back(std::move(g));
  }
  return out;
}

bool LooksLikeEspnScoreboard(std::string_view text) {
  std::string_view head = Trim(text.substr(0, 1 << 16));
  if (!StartsWith(head, "{")) return false;
  return head.find("\"events\"") != std::string_view::npos && head.find("\"leagues\"") != std::string_view::npos;
}

}  // namespace nbaprops::pipeline
