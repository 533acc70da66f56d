#include "pipeline/evaluation.h"

#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <nlohmann/json.hpp>

#include "base/stats.h"
#include "base/svg_chart.h"
#include "base/time.h"
#include "pipeline/partition.h"

namespace nbaprops::pipeline {
namespace {

using nlohmann::json;

// Rounded for a stable, readable report (two runs print identical JSON).
json Num(double v, int digits = 4) {
  if (std::isnan(v) || std::isinf(v)) return nullptr;
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

constexpr int kBootstrapResamples = 1000;

struct Outcome {
  double minutes = 0, points = 0;
};

// One system's graded predictions, accumulated.
struct Acc {
  int64_t n_graded = 0, voids = 0, picks = 0, wins = 0, losses = 0, pushes = 0;
  double abs_model = 0, abs_line = 0, abs_season = 0, abs_l10 = 0, abs_ewma = 0, profit = 0;
  int64_t n_baseline = 0;
  std::vector<double> prob, prob_market;  // prob_market: vig-free P(over) of the same line (0.5 without prices)
  std::vector<int> over;
  std::vector<double> abs_diff;  // per graded player-game: |model - actual| - |line - actual|
  int64_t no_prices = 0;
  double clv = 0;
  int64_t n_clv = 0;
  int64_t unders_won = 0, unders_lost = 0;  // always-UNDER reference
  // Every production-ready player who played, line or not: the only MAE measurable before lines
  // exist (used to choose hyperparameters on games before the evaluation window).
  int64_t n_all = 0;
  double all_model = 0, all_season = 0, all_l10 = 0, all_ewma = 0;

  json ToJson(uint64_t seed) const {
    auto mean = [](double s, int64_t n) { return n ? s / static_cast<double>(n) : NAN; };
    Interval ci = WilsonInterval(wins, wins + losses);
    double base_rate = over.empty() ? NAN : std::accumulate(over.begin(), over.end(), 0.0) / over.size();
    std::vector<double> flat(prob.size(), std::isnan(base_rate) ? 0.5 : base_rate), half(prob.size(), 0.5);
    auto reliability = [](const std::vector<double>& p, const std::vector<int>& y) {
      json out = json::array();
      for (const ReliabilityBin& b : Reliability(p, y, 10)) {
        out.push_back({{"lo", Num(b.lo, 2)},
                       {"hi", Num(b.hi, 2)},
                       {"n", b.n},
                       {"mean_predicted", Num(b.mean_predicted)},
                       {"observed_rate", Num(b.observed_rate)}});
      }
      return out;
    };
    const Interval diff_ci = BootstrapMeanInterval(abs_diff, kBootstrapResamples, seed);
    return {{"n_graded", n_graded},
            {"voids", voids},
            {"picks", picks},
            {"wins", wins},
            {"losses", losses},
            {"pushes", pushes},
            {"hit_rate", Num(mean(static_cast<double>(wins), wins + losses))},
            {"hit_rate_ci95", {Num(ci.lo), Num(ci.hi)}},
            {"roi", Num(mean(profit, picks))},
            {"units", Num(profit, 2)},
            {"mae_model", Num(mean(abs_model, n_graded))},
            {"mae_line", Num(mean(abs_line, n_graded))},
            {"mae_model_minus_line", Num(mean(abs_model - abs_line, n_graded))},
            {"mae_model_minus_line_ci95", {Num(diff_ci.lo), Num(diff_ci.hi)}},
            {"mae_season_avg", Num(mean(abs_season, n_baseline))},
            {"mae_last10", Num(mean(abs_l10, n_baseline))},
            {"mae_ewma", Num(mean(abs_ewma, n_baseline))},
            {"brier", Num(Brier(prob, over))},
            {"brier_no_skill_0_5", Num(Brier(half, over))},
            {"brier_no_skill_base_rate", Num(Brier(flat, over))},
            {"log_loss", Num(LogLoss(prob, over))},
            {"log_loss_no_skill_0_5", Num(LogLoss(half, over))},
            {"brier_market", Num(Brier(prob_market, over))},
            {"log_loss_market", Num(LogLoss(prob_market, over))},
            {"market_without_prices", no_prices},
            {"reliability_market", reliability(prob_market, over)},
            {"over_rate", Num(base_rate)},
            {"always_under_hit_rate", Num(mean(static_cast<double>(unders_won), unders_won + unders_lost))},
            {"avg_clv", Num(mean(clv, n_clv))},
            {"n_clv", n_clv},
            {"reliability", reliability(prob, over)},
            {"all_players",
             {{"n", n_all},
              {"mae_model", Num(mean(all_model, n_all))},
              {"mae_season_avg", Num(mean(all_season, n_all))},
              {"mae_last10", Num(mean(all_l10, n_all))},
              {"mae_ewma", Num(mean(all_ewma, n_all))}}}};
  }
};

// A bet on one side of p's line settled by the actual points: +profit at the price (-110 without
// one), -1, or 0 for a push; and the closing-line value of taking that side, when it closed later.
struct Settled {
  int result = 0;  // 1 won, -1 lost, 0 push
  double units = 0;
  std::optional<double> clv;
};
Settled Settle(const Prediction& p, bool over, double actual) {
  Settled s;
  const double line = p.line->line;
  if (actual != line) {
    s.result = (actual > line) == over ? 1 : -1;
    s.units = s.result > 0 ? AmericanProfit((over ? p.line->over : p.line->under).value_or(-110)) : -1;
  }
  if (p.closing) s.clv = over ? p.closing->line - line : line - p.closing->line;
  return s;
}

// The minutes projection against the player's last-10 minutes, on every production-ready
// player-game played (the booster's input, so it is graded whether or not there was a line).
struct MinutesAcc {
  std::vector<double> abs_projection, abs_l10;
  json ToJson(uint64_t seed) const {
    const auto n = static_cast<double>(abs_projection.size());
    const double p = std::accumulate(abs_projection.begin(), abs_projection.end(), 0.0);
    const double l = std::accumulate(abs_l10.begin(), abs_l10.end(), 0.0);
    std::vector<double> diff;
    for (size_t i = 0; i < abs_l10.size(); ++i) diff.push_back(abs_projection[i] - abs_l10[i]);
    const Interval ci = BootstrapMeanInterval(diff, kBootstrapResamples, seed);
    return {{"n", abs_projection.size()},
            {"mae_projection", Num(n ? p / n : NAN)},
            {"mae_minutes_avg_l10", Num(n ? l / n : NAN)},
            {"mae_projection_minus_l10", Num(n ? (p - l) / n : NAN)},
            {"mae_projection_minus_l10_ci95", {Num(ci.lo), Num(ci.hi)}}};
  }
};

// Betting the side a system favours over the market on every graded player-game with a line,
// grouped by how much its P(side) exceeds the vig-free market's (does a larger edge win more?).
struct SideBets {
  int64_t wins = 0, losses = 0, pushes = 0, n_clv = 0;
  double profit = 0, clv = 0;
  json ToJson() const {
    Interval ci = WilsonInterval(wins, wins + losses);
    const int64_t n = wins + losses + pushes;
    return {{"bets", n},
            {"wins", wins},
            {"losses", losses},
            {"pushes", pushes},
            {"hit_rate", wins + losses ? Num(static_cast<double>(wins) / (wins + losses)) : json(nullptr)},
            {"hit_rate_ci95", {Num(ci.lo), Num(ci.hi)}},
            {"roi", n ? Num(profit / n) : json(nullptr)},
            {"avg_clv", n_clv ? Num(clv / n_clv) : json(nullptr)},
            {"n_clv", n_clv}};
  }
};

std::string MarketEdgeBucket(double advantage) {
  if (advantage < 0.02) return "0-2%";
  if (advantage < 0.04) return "2-4%";
  if (advantage < 0.06) return "4-6%";
  if (advantage < 0.10) return "6-10%";
  return "10%+";
}

// Period starts in [from, to]: every 7 days (weekly) or the 1st of each month (monthly).
std::vector<int32_t> PeriodStarts(int32_t from, int32_t to, const std::string& retrain) {
  std::vector<int32_t> out{from};
  for (int32_t d = from + 1; d <= to; ++d) {
    if (retrain == "weekly" ? (d - from) % 7 == 0 : FormatIsoDate(d).substr(8) == "01") out.push_back(d);
  }
  return out;
}

std::string EdgeBand(double edge) {
  double a = std::abs(edge);
  if (a < 1) return "0-1";
  if (a < 2) return "1-2";
  if (a < 3) return "2-3";
  if (a < 5) return "3-5";
  return "5+";
}

}  // namespace

StatusOr<EvalResult> Evaluate(store::Store& store, const EvalOptions& o,
                              const std::function<void(int, int, const std::string&)>& progress) {
  auto from = ParseIsoDate(o.from), to = ParseIsoDate(o.to);
  if (!from || !to || *from > *to) {
    return InvalidArgumentError("evaluate needs --from <= --to as YYYY-MM-DD (got '" + o.from + "', '" + o.to + "')");
  }
  if (o.retrain != "weekly" && o.retrain != "monthly") {
    return InvalidArgumentError("--retrain must be weekly or monthly, not '" + o.retrain + "'");
  }
  const std::string train_from = o.train_from.empty() ? FormatIsoDate(SeasonStart(*from)) : o.train_from;
  if (!ParseIsoDate(train_from) || train_from >= o.from) {
    return InvalidArgumentError("--train-from must be a date YYYY-MM-DD before --from " + o.from + " (got '" +
                                train_from + "')");
  }
  std::map<std::string, Acc> by_system, by_book, by_band;  // book/band: primary system only
  std::map<std::string, SideBets> by_market_edge;          // primary system only
  MinutesAcc minutes;
  std::map<std::string, std::map<std::string, double>> daily_units;  // system -> date -> units
  json periods = json::array();
  const auto starts = PeriodStarts(*from, *to, o.retrain);
  for (size_t k = 0; k < starts.size(); ++k) {
    const int32_t p_from = starts[k], p_to = k + 1 < starts.size() ? starts[k + 1] - 1 : *to;
    const std::string train_until = FormatIsoDate(p_from);
    TrainingSet train;
    RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(train, LoadTrainingSet(t, train_from, train_until));
      return OkStatus();
    }));
    ASSIGN_OR_RETURN(auto model, Model::Train(train, o.train, train_until));
    periods.push_back({{"from", train_until},
                       {"to", FormatIsoDate(p_to)},
                       {"model_version", model->version()},
                       {"n_train", model->n_train},
                       {"ensemble_weight", Num(model->ensemble_weight, 2)},
                       {"calibration_ensemble", Num(model->ensemble_spread.calibration, 2)},
                       {"calibration_xgboost", Num(model->xgb_spread.calibration, 2)},
                       {"market_weight_xgboost", Num(model->market.weight, 2)},
                       {"market_shift", Num(model->market.shift, 2)},
                       {"market_prob_intercept", Num(model->market.intercept)},
                       {"market_prob_slope", Num(model->market.slope)},
                       {"market_fitted_on", model->market.n_fit}});
    for (int32_t d = p_from; d <= p_to; ++d) {
      const std::string date = FormatIsoDate(d);
      DateInputs in;
      std::map<std::string, Outcome> outcome;
      RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
        ASSIGN_OR_RETURN(in, LoadDateInputs(t, date));
        return t.Query("SELECT player_id, minutes, points FROM analytics_player_game_summary WHERE game_date = ?",
                       {date}, [&](const store::Row& r) {
                         outcome[r.Text(0)] = {r.Double(1), r.Double(2)};
                         return OkStatus();
                       });
      }));
      if (in.rows.empty()) continue;
      ASSIGN_OR_RETURN(auto preds, PredictDate(in, model.get(), model->ma_spread, o.config));
      std::vector<const FeatureRow*> played_rows;
      for (const FeatureRow& r : in.rows) {
        auto it = outcome.find(r.player_id);
        if (r.production_ready && it != outcome.end() && it->second.minutes > 0) played_rows.push_back(&r);
      }
      ASSIGN_OR_RETURN(auto projected, model->PredictMinutes(played_rows));
      for (size_t i = 0; i < played_rows.size(); ++i) {
        const double actual = outcome.at(played_rows[i]->player_id).minutes;
        minutes.abs_projection.push_back(std::abs(projected[i] - actual));
        minutes.abs_l10.push_back(std::abs(played_rows[i]->at("minutes_avg_l10") - actual));
      }
      std::map<std::string, const FeatureRow*> row_of;
      for (const FeatureRow& r : in.rows) row_of[r.player_id] = &r;
      for (const Prediction& p : preds.predictions) {
        const FeatureRow& row = *row_of.at(p.player_id);
        if (!row.production_ready || std::isnan(p.predicted_points)) continue;
        const double season = row.at("pts_avg_season"), l10 = row.at("pts_avg_l10"), ewma = row.at("pts_ewma");
        auto played = outcome.find(p.player_id);
        if (played != outcome.end() && played->second.minutes > 0 && !std::isnan(season + l10 + ewma)) {
          Acc& a = by_system[p.system_id];
          const double actual = played->second.points;
          ++a.n_all;
          a.all_model += std::abs(p.predicted_points - actual);
          a.all_season += std::abs(season - actual);
          a.all_l10 += std::abs(l10 - actual);
          a.all_ewma += std::abs(ewma - actual);
        }
        if (!p.line) continue;
        const bool primary = p.system_id == o.primary_system;
        std::vector<Acc*> accs = {&by_system[p.system_id]};
        if (primary) {
          accs.push_back(&by_book[p.line->book]);
          accs.push_back(&by_band[EdgeBand(p.edge)]);
        }
        auto out = outcome.find(p.player_id);
        if (out == outcome.end() || out->second.minutes <= 0) {
          for (Acc* a : accs) ++a->voids;
          continue;
        }
        const double actual = out->second.points, line = p.line->line;
        const std::optional<double> market = VigFreeProbOver(*p.line);
        const double p_market = market.value_or(0.5);
        if (primary) {
          SideBets& b = by_market_edge[MarketEdgeBucket(std::abs(p.prob_over - p_market))];
          const Settled bet = Settle(p, p.prob_over > p_market, actual);
          if (bet.result == 0) {
            ++b.pushes;
          } else {
            ++(bet.result > 0 ? b.wins : b.losses);
            b.profit += bet.units;
            if (bet.clv) ++b.n_clv, b.clv += *bet.clv;
          }
        }
        for (Acc* a : accs) {
          ++a->n_graded;
          a->abs_model += std::abs(p.predicted_points - actual);
          a->abs_line += std::abs(line - actual);
          a->abs_diff.push_back(std::abs(p.predicted_points - actual) - std::abs(line - actual));
          if (!market) ++a->no_prices;
          if (!std::isnan(season + l10 + ewma)) {
            ++a->n_baseline;
            a->abs_season += std::abs(season - actual);
            a->abs_l10 += std::abs(l10 - actual);
            a->abs_ewma += std::abs(ewma - actual);
          }
          if (actual != line) {
            a->prob.push_back(p.prob_over);
            a->prob_market.push_back(p_market);
            a->over.push_back(actual > line ? 1 : 0);
            (actual < line ? a->unders_won : a->unders_lost)++;
          }
          if (p.recommendation != "OVER" && p.recommendation != "UNDER") continue;
          ++a->picks;
          const Settled bet = Settle(p, p.recommendation == "OVER", actual);
          ++(bet.result > 0 ? a->wins : bet.result < 0 ? a->losses : a->pushes);
          a->profit += bet.units;
          if (a == accs.front()) daily_units[p.system_id][date] += bet.units;
          if (bet.clv) ++a->n_clv, a->clv += *bet.clv;
        }
      }
    }
    if (progress) progress(static_cast<int>(k + 1), static_cast<int>(starts.size()), train_until);
  }
  if (!by_system.count(o.primary_system)) {
    return FailedPreconditionError("no graded predictions of system '" + o.primary_system + "' between " + o.from +
                                   " and " + o.to + " (are there lines and box scores for the window?)");
  }
  json doc = by_system[o.primary_system].ToJson(o.seed);
  doc["system"] = o.primary_system;
  doc["window"] = {{"from", o.from}, {"to", o.to}};
  doc["retrain"] = o.retrain;
  doc["train_from"] = train_from;
  doc["line_policy"] = o.config.policy == LinePolicy::kOpening ? "opening" : "latest";
  doc["feature_version"] = kFeatureVersion;
  doc["periods"] = periods;
  doc["seed"] = o.seed;
  doc["bootstrap_resamples"] = kBootstrapResamples;
  json edges;
  for (auto& [k, b] : by_market_edge) edges[k] = b.ToJson();
  doc["by_market_edge"] = edges;
  doc["minutes"] = minutes.ToJson(o.seed);
  for (auto* group : {&by_system, &by_book, &by_band}) {
    json j;
    for (auto& [k, a] : *group) j[k] = a.ToJson(o.seed);
    doc[group == &by_system ? "by_system" : group == &by_book ? "by_sportsbook" : "by_edge_band"] = j;
  }
  EvalResult res;
  res.json = doc.dump(2) + "\n";
  const Acc& primary = by_system[o.primary_system];
  res.reliability_svg = ReliabilityDiagramSvg(
      std::vector<ReliabilitySeries>{{o.primary_system, Reliability(primary.prob, primary.over, 10)},
                                     {"sportsbook (vig-free)", Reliability(primary.prob_market, primary.over, 10)}},
      "Reliability of prob_over: " + o.primary_system + " and the sportsbook (vig-free), " + o.from + " to " + o.to);
  std::set<std::string> all_dates;
  for (auto& [s, m] : daily_units) {
    for (auto& [d, u] : m) all_dates.insert(d);
  }
  std::vector<std::string> labels(all_dates.begin(), all_dates.end());
  std::vector<Series> series;
  for (auto& [s, m] : daily_units) {
    Series line{s, {}};
    double cum = 0;
    for (const std::string& d : labels) {
      if (auto it = m.find(d); it != m.end()) cum += it->second;
      line.y.push_back(cum);
    }
    series.push_back(std::move(line));
  }
  res.cumulative_svg = LineChartSvg("Cumulative units (1 unit per pick at the actual price)", labels, series, "units");
  return res;
}

}  // namespace nbaprops::pipeline
