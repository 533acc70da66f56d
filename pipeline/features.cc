#include "pipeline/features.h"

#include <charconv>
#include <cmath>
#include <unordered_map>
#include <limits>

#include "base/strings.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {

const std::vector<FeatureSpec>& FeatureContract() {
  static const std::vector<FeatureSpec> kContract = {
      {"pts_avg_l3", "points per game, last 3 games played", "player_daily_cache", false},
      {"pts_avg_l5", "points per game, last 5 games played", "player_daily_cache", true},
      {"pts_avg_l10", "points per game, last 10 games played", "player_daily_cache", true},
      {"pts_avg_season", "points per game this season", "player_daily_cache", true},
      {"pts_std_l10", "standard deviation of points, last 10 games", "player_daily_cache", false},
      {"pts_ewma", "exponentially weighted points (half-life 10 games)", "player_daily_cache", true},
      {"minutes_avg_l10", "minutes per game, last 10 games", "player_daily_cache", true},
      {"minutes_avg_l3", "minutes per game, last 3 games (a role change shows here first)", "player_daily_cache",
       false},
      {"minutes_avg_season", "minutes per game this season", "player_daily_cache", false},
      {"usage_avg_l10", "usage rate, last 10 games", "player_daily_cache", false},
      {"ts_season", "true shooting percentage this season", "player_daily_cache", false},
      {"games_season", "games played this season before this one", "player_daily_cache", false},
      {"days_rest", "days since the player's last game", "player_composite_factors", false},
      {"back_to_back", "1 when the team played the day before", "player_composite_factors", false},
      {"games_last_7d", "games played in the previous 7 days", "player_daily_cache", false},
      {"minutes_last_7d", "minutes played in the previous 7 days", "player_daily_cache", false},
      {"fatigue_score", "0-100 from back-to-back, 7-day minutes and 14-day games", "player_composite_factors", false},
      {"team_pace_l10", "team possessions per game, last 10 games", "player_daily_cache", false},
      {"team_off_rating_l10", "team points per 100 possessions, last 10 games", "player_daily_cache", false},
      {"opp_def_rating_l15", "opponent points allowed per 100 possessions, last 15 games", "team_defense_zone_analysis",
       false},
      {"opp_pace_l15", "opponent possessions per game, last 15 games", "team_defense_zone_analysis", false},
      {"zone_mismatch", "player's scoring mix times the opponent's allowed-vs-league by zone",
       "player_composite_factors", false},
      {"three_pt_share_l10", "share of the player's points from threes, last 10 games", "player_shot_zone_analysis",
       false},
      {"ft_share_l10", "share of the player's points from free throws, last 10 games", "player_shot_zone_analysis",
       false},
      {"home", "1 at home", "upcoming_player_game_context", false},
      {"teammates_out", "rotation teammates listed OUT before tip-off", "player_composite_factors", false},
      {"points_freed", "last-10 points per game of the OUT teammates", "player_composite_factors", false},
      {"minutes_freed", "last-10 minutes per game of the OUT teammates", "player_composite_factors", false},
      {"usage_spike", "share of the OUT teammates' usage this player would absorb", "player_composite_factors",
       false},
      {"injury_questionable", "1 when the player is listed questionable/doubtful/probable",
       "upcoming_player_game_context", false},
      {"line", "points line of the chosen book at prediction time", "upcoming_player_lines", false},
      {"line_consensus", "median line across books at prediction time", "upcoming_player_lines", false},
      {"line_spread_books", "highest minus lowest line across books", "upcoming_player_lines", false},
      {"line_movement", "latest minus opening line of the chosen book (0 under the opening-line policy)",
       "upcoming_player_lines", false},
      {"line_implied_over", "the market's probability of the over, vig removed, from the chosen line's prices",
       "upcoming_player_lines", false},
      {"line_minus_season_avg", "line minus season points per game", "upcoming_player_lines", false},
      {"game_total", "game total points line before tip-off", "upcoming_team_game_context", false},
      {"team_spread", "point spread from the team's side before tip-off", "upcoming_team_game_context", false},
  };
  return kContract;
}

int FeatureIndex(std::string_view name) {
  static const std::unordered_map<std::string_view, int> kIndex = [] {
    std::unordered_map<std::string_view, int> m;
    const auto& c = FeatureContract();
    for (size_t i = 0; i < c.size(); ++i) m.emplace(c[i].name, static_cast<int>(i));
    return m;
  }();
  auto it = kIndex.find(name);
  return it == kIndex.end() ? -1 : it->second;
}

double FeatureRow::at(std::string_view name) const {
  int i = FeatureIndex(name);
  return i < 0 || static_cast<size_t>(i) >= values.size() ? std::numeric_limits<double>::quiet_NaN() : values[i];
}

std::string EncodeValues(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    if (std::isnan(values[i])) {
      out += "null";
      continue;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, values[i]);  // shortest text that reads back exactly
    out.append(buf, end);
  }
  return out + "]";
}

StatusOr<std::vector<double>> DecodeValues(std::string_view json, size_t expected) {
  if (json.size() < 2 || json.front() != '[' || json.back() != ']') {
    return InvalidArgumentError("feature_values is not a JSON array: " + std::string(json.substr(0, 40)));
  }
  std::vector<double> out;
  out.reserve(expected);
  for (std::string_view part : Split(json.substr(1, json.size() - 2), ',')) {
    if (part == "null") {
      out.push_back(std::numeric_limits<double>::quiet_NaN());
      continue;
    }
    char* end = nullptr;
    std::string s(part);
    double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end) return InvalidArgumentError("feature_values has a bad number: " + s);
    out.push_back(v);
  }
  if (out.size() != expected) {
    return InvalidArgumentError("feature_values has " + std::to_string(out.size()) + " values, the contract " +
                                std::string(kFeatureVersion) + " has " + std::to_string(expected));
  }
  return out;
}

std::string EncodeSources(const std::vector<std::string>& sources) {
  const auto& contract = FeatureContract();
  std::string out = "{";
  for (size_t i = 0; i < sources.size() && i < contract.size(); ++i) {
    if (sources[i] == contract[i].source) continue;
    if (out.size() > 1) out += ',';
    out += '"';
    out += contract[i].name;
    out += "\":\"";
    out += sources[i];
    out += '"';
  }
  return out + "}";
}

void Assess(FeatureRow& row) {
  const auto& c = FeatureContract();
  int observed = 0;
  std::vector<std::string> bad;
  for (size_t i = 0; i < c.size(); ++i) {
    char q = i < row.quality.size() ? row.quality[i] : 'm';
    if (q == static_cast<char>(FeatureQuality::kObserved)) {
      ++observed;
    } else if (c[i].critical) {
      bad.push_back(std::string(c[i].name) + (q == 'd' ? " defaulted" : " missing"));
    }
  }
  row.quality_score = c.empty() ? 0 : std::round(1000.0 * observed / c.size()) / 10;
  row.production_ready = bad.empty();
  row.not_ready_reason = Join(bad, ", ");
}

}  // namespace nbaprops::pipeline
