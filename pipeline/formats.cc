#include "pipeline/formats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>

#include "base/csv.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/api_formats.h"
#include "pipeline/player_names.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline {
namespace {

struct KindSpec {
  ImportKind kind;
  const char* name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};

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

bool IsConflictMarker(std::string_view line) {
  return StartsWith(line, "<<<<<<<") || StartsWith(line, "=======") || StartsWith(line, ">>>>>>>");
}

// Reads CSV records, turning merge-conflict markers and repeated headers into rejects.
class CsvSource {
 public:
  CsvSource(std::string_view content, std::string name, const KindSpec* spec, std::vector<Reject>* rejects)
      : reader_(content), name_(std::move(name)), spec_(spec), rejects_(rejects) {}

  // Finds the header (the first record that is not a conflict marker).
  bool ReadHeader() {
    CsvRecord rec;
    while (reader_.Next(&rec)) {
      if (IsConflictMarker(rec.raw)) {
        RejectRaw(rec, "git merge-conflict marker line; resolve the conflict in the source file and re-import");
        continue;
      }
      header_raw_ = std::string(rec.raw);
      header_ = CsvHeader(rec.fields);
      return true;
    }
    return false;
  }

  // Next data record; false at end. Skips (and rejects) markers, repeated headers, bad UTF-8,
  // wrong field counts.
  bool Next(CsvRecord* rec) {
    while (reader_.Next(rec)) {
      if (IsConflictMarker(rec->raw)) {
        RejectRaw(*rec, "git merge-conflict marker line; resolve the conflict in the source file and re-import");
        continue;
      }
      if (rec->raw == header_raw_) {
        RejectRaw(*rec, "repeated header line (files concatenated or merged?)");
        continue;
      }
      if (spec_ && LooksLikeHeader(rec->fields)) {
        // A merge of two versions of a file can bring a second header with other columns;
        // the rows after it follow that header.
        RejectRaw(*rec, "new header line inside the file (two versions merged?); the rows after it are read with it");
        header_raw_ = std::string(rec->raw);
        header_ = CsvHeader(rec->fields);
        ++header_version_;
        continue;
      }
      if (!rec->error.empty()) {
        RejectRaw(*rec, rec->error);
        continue;
      }
      if (!IsValidUtf8(rec->raw)) {
        size_t bad = FirstInvalidUtf8(rec->raw);
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(rec->raw[bad]));
        RejectRaw(*rec, std::string("not valid UTF-8 (byte ") + buf + " at column " + std::to_string(bad + 1) +
                            "); re-save the file as UTF-8");
        continue;
      }
      if (rec->fields.size() != header_.names().size()) {
        RejectRaw(*rec, "expected " + std::to_string(header_.names().size()) + " fields like the header, found " +
                            std::to_string(rec->fields.size()) + " (truncated line or unquoted comma?)");
        continue;
      }
      return true;
    }
    return false;
  }

  void RejectRaw(const CsvRecord& rec, std::string reason) {
    rejects_->push_back({Location(rec), std::move(reason), Truncate(rec.raw)});
  }
  std::string Location(const CsvRecord& rec) const { return name_ + ":" + std::to_string(rec.line); }
  const CsvHeader& header() const { return header_; }
  int header_version() const { return header_version_; }

 private:
  bool LooksLikeHeader(const std::vector<std::string>& fields) const {
    CsvHeader h(fields);
    for (const auto& c : spec_->required) {
      if (!h.Has(c)) return false;
    }
    return true;
  }

  static size_t FirstInvalidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (!IsValidUtf8(s.substr(0, i + 1)) && !IsValidUtf8(s.substr(0, std::min(s.size(), i + 4)))) return i;
    }
    return 0;
  }

  CsvReader reader_;
  std::string name_;
  const KindSpec* spec_;
  std::vector<Reject>* rejects_;
  CsvHeader header_;
  std::string header_raw_;
  int header_version_ = 0;
};

// Field access by column name with typed validation; collects the first error of a record.
// Column positions by name, looked up once per file: names are string literals, so their
// address identifies them.
class ColumnCache {
 public:
  explicit ColumnCache(const CsvHeader& h) : h_(h) {}
  int Index(std::string_view col) {
    for (const auto& [ptr, idx] : cache_) {
      if (ptr == col.data()) return idx;
    }
    int idx = h_.Index(col);
    cache_.emplace_back(col.data(), idx);
    return idx;
  }

 private:
  const CsvHeader& h_;
  std::vector<std::pair<const char*, int>> cache_;
};

class Fields {
 public:
  Fields(ColumnCache& columns, const CsvRecord& r) : columns_(columns), r_(r) {}

  std::string_view Get(std::string_view col) const {
    int i = columns_.Index(col);
    return i < 0 ? std::string_view() : Trim(r_.fields[static_cast<size_t>(i)]);
  }
  std::string Text(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (required && v.empty()) Fail(std::string(col) + " is empty");
    return std::string(v);
  }
  std::optional<int> Int(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return std::nullopt;
    }
    auto x = ParseInt(v);
    if (!x) {
      auto d = ParseDouble(v);  // "12.0" from spreadsheets
      if (d && std::floor(*d) == *d) return static_cast<int>(*d);
      Fail(std::string(col) + " '" + std::string(v) + "' is not a whole number");
      return std::nullopt;
    }
    return static_cast<int>(*x);
  }
  std::optional<double> Double(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return std::nullopt;
    }
    auto x = ParseDouble(v);
    if (!x || !std::isfinite(*x)) Fail(std::string(col) + " '" + std::string(v) + "' is not a number");
    return x;
  }
  std::string Date(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty; write the date as YYYY-MM-DD");
      return "";
    }
    if (IsIsoDate(v)) return std::string(v);
    std::string msg = std::string(col) + " '" + std::string(v) + "' is not an ISO date (YYYY-MM-DD)";
    if (auto guess = GuessDate(v)) msg += "; write it as " + FormatIsoDate(*guess);
    Fail(msg);
    return "";
  }
  std::optional<int64_t> Timestamp(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty; write an ISO-8601 UTC time like 2024-01-31T00:30:00Z");
      return std::nullopt;
    }
    auto t = ParseIsoTimestamp(v);
    if (!t) Fail(std::string(col) + " '" + std::string(v) + "' is not an ISO-8601 time like 2024-01-31T00:30:00Z");
    return t;
  }
  std::string Team(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return "";
    }
    auto t = NormalizeTeam(v);
    if (!t) Fail(std::string(col) + " '" + std::string(v) + "' is not an NBA team (use a code like BOS or a full name)");
    return t.value_or("");
  }
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  const std::string& error() const { return error_; }

 private:
  ColumnCache& columns_;
  const CsvRecord& r_;
  std::string error_;
};

std::string HomeAway(std::string_view v, Fields& f) {
  std::string s = ToLower(v);
  if (s.empty()) return "";
  if (s == "home" || s == "h") return "home";
  if (s == "away" || s == "a" || s == "@") return "away";
  f.Fail("home_away '" + std::string(v) + "' must be home or away");
  return "";
}

bool ValidAmericanOdds(int p) { return p <= -100 || p >= 100; }

template <typename Fn>
Status ParseCsv(ImportKind kind, std::string_view content, const std::string& name, ParsedPayload* out, Fn&& per_row) {
  const KindSpec* spec = SpecFor(kind);
  CsvSource src(content, name, spec, &out->rejects);
  if (!src.ReadHeader()) return InvalidArgumentError(name + ": the file is empty (no header line)");
  std::vector<std::string> missing;
  for (const std::string& col : spec->required) {
    if (!src.header().Has(col)) missing.push_back(col);
  }
  if (!missing.empty()) {
    return InvalidArgumentError(name + ":1: missing required column" + (missing.size() > 1 ? "s " : " ") +
                                Join(missing, ", ") + " for a " + spec->name + " file (header has: " +
                                Join(src.header().names(), ", ") + "); see docs/import-formats.md");
  }
  CsvRecord rec;
  auto columns = std::make_unique<ColumnCache>(src.header());
  int header_version = src.header_version();
  while (src.Next(&rec)) {
    if (src.header_version() != header_version) {
      header_version = src.header_version();
      columns = std::make_unique<ColumnCache>(src.header());
    }
    Fields f(*columns, rec);
    std::string location = src.Location(rec);
    per_row(f, location);
    if (!f.error().empty()) src.RejectRaw(rec, f.error());
  }
  return OkStatus();
}

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
  return ParseCsv(ImportKind::kSchedule, content, name, out, [&](Fields& f, const std::string&) {
    GameRecord g;
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

// RotoWire cell: "(25.5) -105", "10.5 (-110)", "-120" (price, no line), "-" (not offered).
struct RotowireCell {
  bool offered = false;
  std::optional<double> line;
  std::optional<int> price;
  bool malformed = false;
};

RotowireCell ParseRotowireCell(std::string_view raw) {
  RotowireCell c;
  std::string_view s = Trim(raw);
  if (s.empty() || s == "-" || s == "(None) None" || s == "None") return c;
  c.offered = true;
  std::string a, b;  // the parenthesized part and the rest
  size_t lp = s.find('('), rp = s.find(')');
  if (lp != std::string_view::npos && rp != std::string_view::npos && rp > lp) {
    a = std::string(Trim(s.substr(lp + 1, rp - lp - 1)));
    b = std::string(Trim(std::string(s.substr(0, lp)) + std::string(s.substr(rp + 1))));
    // "(25.5) -105": line in parentheses; "10.5 (-110)": price in parentheses.
    bool a_is_price = !a.empty() && (a[0] == '-' || a[0] == '+') ;
    std::string line_s = a_is_price ? b : a, price_s = a_is_price ? a : b;
    c.line = ParseDouble(line_s);
    auto p = ParseInt(price_s);
    if (p) c.price = static_cast<int>(*p);
    if (!c.line || !p) c.malformed = true;
    return c;
  }
  auto p = ParseInt(s);
  if (p) {
    c.price = static_cast<int>(*p);
  } else {
    c.malformed = true;
  }
  return c;
}

std::optional<int64_t> TimeFromFileName(const std::string& name) {
  // "20240126T174858Z_2cc4293889.csv"
  size_t slash = name.find_last_of('/');
  std::string base = slash == std::string::npos ? name : name.substr(slash + 1);
  if (base.size() < 16 || base[8] != 'T' || base[15] != 'Z') return std::nullopt;
  std::string iso = base.substr(0, 4) + "-" + base.substr(4, 2) + "-" + base.substr(6, 2) + "T" + base.substr(9, 2) +
                    ":" + base.substr(11, 2) + ":" + base.substr(13, 2) + "Z";
  return ParseIsoTimestamp(iso);
}

// One record per (player, opponent, book) of the Points market: its Over and Under cells.
Status ParseRotowire(std::string_view content, const std::string& name, int64_t fetched_at, ParsedPayload* out) {
  const int64_t captured = TimeFromFileName(name).value_or(fetched_at);
  const std::string game_date = FormatIsoDate(EasternDate(captured));
  static constexpr std::array<std::pair<const char*, const char*>, 4> kBooks = {
      {{"draftkings", "draftkings"}, {"fanduel", "fanduel"}, {"mgm", "betmgm"}, {"pointsbet", "pointsbet"}}};
  struct Side {
    RotowireCell over, under;
    std::string location, raw;
    bool have_over = false, have_under = false;
  };
  std::map<std::tuple<std::string, std::string, std::string>, Side> pairs;
  std::vector<std::tuple<std::string, std::string, std::string>> order;
  Status st = ParseCsv(ImportKind::kRotowireProps, content, name, out, [&](Fields& f, const std::string& loc) {
    std::string prop = ToLower(f.Get("prop"));
    if (prop != "points") return;  // other markets are out of scope, not bad records
    std::string player = f.Text("playername", true);
    std::string opp(f.Get("opp"));
    std::string side = ToLower(f.Get("over_under"));
    if (side != "over" && side != "under") {
      f.Fail("Over_Under '" + side + "' must be Over or Under");
      return;
    }
    if (!f.error().empty()) return;
    for (auto [col, book] : kBooks) {
      auto key = std::make_tuple(player, opp, std::string(book));
      auto [it, fresh] = pairs.try_emplace(key);
      if (fresh) order.push_back(key);
      RotowireCell cell = ParseRotowireCell(f.Get(col));
      (side == "over" ? it->second.over : it->second.under) = cell;
      (side == "over" ? it->second.have_over : it->second.have_under) = true;
      if (it->second.location.empty()) it->second.location = loc;
      it->second.raw += std::string(f.Get("playername")) + "," + opp + ",Points," + side + "," +
                        std::string(f.Get(col)) + " [" + book + "] ";
    }
  });
  RETURN_IF_ERROR(st);
  for (const auto& key : order) {
    const Side& s = pairs[key];
    if (!s.over.offered && !s.under.offered) continue;  // the book did not offer this player
    auto reject = [&](std::string why) { out->rejects.push_back({s.location, std::move(why), Truncate(s.raw)}); };
    if (s.over.malformed || s.under.malformed) {
      reject("unreadable odds cell for " + std::get<2>(key) + " (expected '(25.5) -105' or '25.5 (-105)')");
      continue;
    }
    std::optional<double> line = s.over.line ? s.over.line : s.under.line;
    if (!line) {
      reject("odds with no line for " + std::get<0>(key) + " at " + std::get<2>(key) +
             ": a points prop needs a line; the cell has only a price");
      continue;
    }
    if (s.over.line && s.under.line && *s.over.line != *s.under.line) {
      reject("over line and under line differ for " + std::get<0>(key) + " at " + std::get<2>(key));
      continue;
    }
    PropRecord p;
    p.captured_at_utc = captured;
    p.game_date = game_date;
    p.player_name = std::get<0>(key);
    std::string opp = std::get<1>(key);
    p.home_away = opp.empty() ? "" : (StartsWith(opp, "@") ? "away" : "home");
    if (StartsWith(opp, "@")) opp = opp.substr(1);
    p.opponent = NormalizeTeam(opp).value_or("");
    p.sportsbook = std::get<2>(key);
    p.line = *line;
    p.over_price = s.over.price;
    p.under_price = s.under.price;
    p.snapshot = "live";
    p.source = "rotowire";
    p.location = s.location;
    out->props.push_back(std::move(p));
  }
  return OkStatus();
}

}  // namespace

std::string_view KindName(ImportKind kind) {
  switch (kind) {
    case ImportKind::kUnknown: return "unknown";
    case ImportKind::kBalldontlieStats: return "balldontlie_stats";
    case ImportKind::kOddsApiEventOdds: return "odds_api_event_odds";
    default: break;
  }
  const KindSpec* s = SpecFor(kind);
  return s ? s->name : "unknown";
}

std::optional<ImportKind> KindFromName(std::string_view name) {
  for (ImportKind k : {ImportKind::kSchedule, ImportKind::kBoxScores, ImportKind::kInjuries, ImportKind::kPlayerProps,
                       ImportKind::kGameLines, ImportKind::kPlayers, ImportKind::kRotowireProps,
                       ImportKind::kBalldontlieStats, ImportKind::kOddsApiEventOdds}) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

std::string AllKindNames() {
  return "schedule, box_scores, injuries, player_props, game_lines, players, rotowire_props, balldontlie_stats, "
         "odds_api_event_odds";
}

Detection DetectKind(std::string_view content) {
  Detection d;
  std::string_view head = Trim(content.substr(0, 4096));
  if (StartsWith(head, "{") || StartsWith(head, "[")) {
    if (LooksLikeBalldontlieStats(content)) d.kind = ImportKind::kBalldontlieStats;
    else if (LooksLikeOddsApiEventOdds(content)) d.kind = ImportKind::kOddsApiEventOdds;
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
    case ImportKind::kRotowireProps: st = ParseRotowire(content, name, fetched_at, &out); break;
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
  if (!d || *d < 0) return std::nullopt;
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
