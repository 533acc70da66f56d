// RotoWire NBA player-props page snapshots: `PlayerName,opp,Prop,Over_Under,<book>...` with
// cells like "(25.5) -105". Only the Points market is imported.
#include <array>
#include <map>
#include <tuple>

#include "pipeline/csv_import.h"

namespace nbaprops::pipeline::csv_import {
namespace {

// RotoWire cell: "(25.5) -105", "10.5 (-110)", "-120" (price, no line), "-" (not offered).
struct RotowireCell {
  bool offered = false;
  std::optional<double> line;
  std::optional<int> price;
  bool malformed = false;
};

// A price as written; beyond +-100000 it is no American price (and would not fit an int).
std::optional<int64_t> ParsePrice(std::string_view s) {
  auto p = ParseInt(s);
  if (p && (*p > 100000 || *p < -100000)) return std::nullopt;
  return p;
}

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
    if (c.line && !(std::isfinite(*c.line) && *c.line > 0)) c.line.reset();  // "(inf)", "(nan)", "(0)"
    auto p = ParsePrice(price_s);
    if (p) c.price = static_cast<int>(*p);
    if (!c.line || !p) c.malformed = true;
    return c;
  }
  auto p = ParsePrice(s);
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

}  // namespace

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


}  // namespace nbaprops::pipeline::csv_import
