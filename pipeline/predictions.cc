#include "pipeline/predictions.h"

#include <sys/stat.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <set>

#include "base/stats.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/partition.h"
#include "pipeline/plan.h"
#include "pipeline/precompute.h"

namespace nbaprops::pipeline {
namespace {

using store::Row;
using store::Transaction;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kSpreadHistoryDays = 60;  // moving_average's spread without a model: the last 60 days

std::string Confidence(double p_side) {
  if (p_side >= 0.65) return "high";
  if (p_side >= 0.58) return "medium";
  return "low";
}

}  // namespace

PredictionConfig PredictionConfigFrom(const Config& c) {
  return {c.sportsbooks, c.line_policy == "latest" ? LinePolicy::kLatest : LinePolicy::kOpening, c.min_edge,
          c.min_probability, c.min_market_edge};
}

StatusOr<DateInputs> LoadDateInputs(Transaction& t, const std::string& date) {
  DateInputs in;
  in.date = date;
  ASSIGN_OR_RETURN(in.rows, LoadFeatureRows(t, date));
  RETURN_IF_ERROR(
      t.Query("SELECT player_id, player_name, COALESCE(injury_status, '') FROM "
              "analytics_upcoming_player_game_context WHERE game_date = ?",
              {date}, [&](const Row& r) {
                in.players[r.Text(0)] = {r.Text(1), r.Text(2)};
                return OkStatus();
              }));
  RETURN_IF_ERROR(LoadLineQuotes(t, date, &in.quotes));
  return in;
}

StatusOr<DatePredictions> PredictDate(const DateInputs& in, const Model* model, const Spread& ma_spread,
                                      const PredictionConfig& config) {
  if (model && model->trained_until() > in.date) {
    return InvalidArgumentError("the model " + model->version() + " was trained on games up to " +
                                model->trained_until() + " and cannot predict " + in.date +
                                " without having seen its results; use a model trained with --until " + in.date +
                                " or earlier");
  }
  DatePredictions out;
  std::vector<const FeatureRow*> rows;
  for (const FeatureRow& r : in.rows) {
    auto p = in.players.find(r.player_id);
    if (p != in.players.end() && p->second.injury_status == "out") {
      ++out.players_out;
      continue;
    }
    rows.push_back(&r);
  }
  out.players = static_cast<int64_t>(rows.size());
  ASSIGN_OR_RETURN(auto systems, PredictSystems(rows, model, ma_spread));
  std::vector<double> minutes(rows.size(), kNaN);
  if (model) {
    ASSIGN_OR_RETURN(minutes, model->PredictMinutes(rows));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const FeatureRow& r = *rows[i];
    std::optional<ChosenLine> line;
    if (auto q = in.quotes.find(r.player_id); q != in.quotes.end()) {
      line = ChooseLine(ByBook(q->second), config.chain, config.policy);
    }
    if (!line) ++out.no_line;
    if (!r.production_ready) ++out.not_ready;
    auto player = in.players.find(r.player_id);
    for (const SystemPoints& s : systems) {
      Prediction p;
      p.system_id = s.system_id;
      p.model_version = s.version;
      p.game_date = in.date;
      p.game_id = r.game_id;
      p.player_id = r.player_id;
      p.player_name = player != in.players.end() ? player->second.name : r.player_id;
      p.team = r.team;
      p.opponent = r.opponent;
      p.home = r.at("home") == 1 ? 1 : 0;
      p.predicted_points = s.points[i];
      p.projected_minutes = minutes[i];
      p.prob_over = p.edge = kNaN;
      if (!line) {
        p.recommendation = "NO_LINE";
        out.predictions.push_back(std::move(p));
        continue;
      }
      p.line = line->quote;
      p.was_line_fallback = line->fallback;
      p.closing = line->closing;
      const bool market = !s.prob_over.empty();
      // The market system predicts against the row's own line; the chain chooses the same one.
      if (market && line->quote.line != r.at("line")) p.predicted_points = kNaN;
      if (!std::isnan(p.predicted_points)) {
        p.edge = p.predicted_points - line->quote.line;
        p.prob_over = market ? s.prob_over[i] : s.spread.ProbOver(line->quote.line, p.predicted_points);
      }
      p.recommendation = "PASS";
      if (!r.production_ready) {
        p.reason = "features not production-ready: " + r.not_ready_reason;
      } else if (std::isnan(p.predicted_points)) {
        p.reason = "no prediction from " + s.system_id;
      } else if (market) {
        const double p_market = VigFreeProbOver(line->quote).value_or(0.5);
        const bool over = p.prob_over > p_market;
        const double advantage = std::abs(p.prob_over - p_market);
        if (advantage < config.min_market_edge) {
          p.reason = "P(over) " + Fmt(std::round(p.prob_over * 1000) / 1000) + " within " +
                     Fmt(config.min_market_edge) + " of the market's " + Fmt(std::round(p_market * 1000) / 1000);
        } else {
          p.recommendation = over ? "OVER" : "UNDER";
          p.confidence = Confidence(over ? p.prob_over : 1 - p.prob_over);
        }
      } else {
        const bool over = p.edge > 0;
        const double p_side = over ? p.prob_over : 1 - p.prob_over;
        if (std::abs(p.edge) < config.min_edge) {
          p.reason = "edge " + Fmt(std::round(p.edge * 10) / 10) + " below " + Fmt(config.min_edge);
        } else if (p_side < config.min_probability) {
          p.reason = "probability " + Fmt(std::round(p_side * 1000) / 1000) + " below " + Fmt(config.min_probability);
        } else {
          p.recommendation = over ? "OVER" : "UNDER";
          p.confidence = Confidence(p_side);
        }
      }
      out.predictions.push_back(std::move(p));
    }
  }
  return out;
}

QualityJudgement JudgeQuality(const DateInputs& in, int64_t first_tip_s, std::optional<int64_t> latest_injury_s,
                              int64_t now_ms, const QualityOptions& o) {
  QualityJudgement j;
  std::set<std::string> ready;
  for (const FeatureRow& r : in.rows) {
    if (r.production_ready) ready.insert(r.player_id);
  }
  std::vector<std::string> missing;
  for (const auto& [player, quotes] : in.quotes) {
    auto p = in.players.find(player);
    if (quotes.empty() || (p != in.players.end() && p->second.injury_status == "out")) continue;
    ++j.expected;
    if (ready.count(player)) {
      ++j.ready;
    } else if (missing.size() < 5) {
      missing.push_back(p != in.players.end() ? p->second.name : player);
    }
  }
  const double coverage = j.expected ? static_cast<double>(j.ready) / static_cast<double>(j.expected) : 1.0;
  const int64_t reference_s = std::min(now_ms / 1000, first_tip_s);
  j.injury_fresh =
      j.expected == 0 || (latest_injury_s && reference_s - *latest_injury_s <= int64_t{o.injury_fresh_hours} * 3600);
  j.tier = coverage >= o.first_gate && j.injury_fresh ? "gold" : coverage >= o.final_gate ? "silver" : "bronze";
  char pct[64];
  std::snprintf(pct, sizeof pct, "%lld of %lld players with a line (%.0f%%)", static_cast<long long>(j.ready),
                static_cast<long long>(j.expected), 100 * coverage);
  if (coverage < o.first_gate) {
    j.reason = std::string(pct) + " have production-ready features; missing e.g. " + Join(missing, ", ");
  }
  if (!j.injury_fresh) {
    j.reason += std::string(j.reason.empty() ? "" : "; ") + "no injury report in the " +
                std::to_string(o.injury_fresh_hours) + " h before " + FormatIsoTimestamp(reference_s);
  }
  const int64_t final_from_ms = first_tip_s * 1000 - o.final_retry_lead_ms;
  if (now_ms < final_from_ms && j.tier != "gold") {
    j.wait = true;
    j.wait_until_ms = final_from_ms;
  } else if (now_ms < first_tip_s * 1000 && j.tier == "bronze") {
    j.wait = true;
  }
  return j;
}

StatusOr<std::vector<StoredPrediction>> LoadLivePredictions(Transaction& t, const std::string& date) {
  std::vector<StoredPrediction> out;
  RETURN_IF_ERROR(
      t.Query("SELECT prediction_id, system_id, model_version, game_id, player_id, player_name, team, opponent, home, "
              "predicted_points, line, edge, prob_over, sportsbook, line_source, confidence, over_price, under_price, "
              "was_line_fallback, recommendation, line_captured_at, quality_tier, projected_minutes FROM "
              "player_prop_predictions WHERE "
              "game_date = ? AND "
              "superseded_by IS NULL ORDER BY game_id, team, player_name, system_id, prediction_id",
              {date}, [&](const Row& r) {
                StoredPrediction p;
                p.id = r.Int(0);
                p.system = r.Text(1);
                p.version = r.Text(2);
                p.game_id = r.Text(3);
                p.player_id = r.Text(4);
                p.player = r.Text(5);
                p.team = r.Text(6);
                p.opponent = r.Text(7);
                p.home = static_cast<int>(r.Int(8));
                p.predicted = r.OptDouble(9);
                p.line = r.OptDouble(10);
                p.edge = r.OptDouble(11);
                p.prob = r.OptDouble(12);
                p.book = r.OptText(13);
                p.source = r.OptText(14);
                p.confidence = r.OptText(15);
                p.over = r.OptInt(16);
                p.under = r.OptInt(17);
                p.fallback = r.Int(18) != 0;
                p.recommendation = r.Text(19);
                p.line_at = r.OptInt(20);
                p.quality_tier = r.OptText(21);
                p.projected_minutes = r.OptDouble(22);
                out.push_back(std::move(p));
                return OkStatus();
              }));
  return out;
}

namespace {

class PredictionProcessor final : public engine::Processor, public DeclaresExpectations {
 public:
  explicit PredictionProcessor(const Config& c) : config_(PredictionConfigFrom(c)), model_path_(c.model_path) {
    quality_.injury_fresh_hours = c.injury_max_age_hours;
    quality_.first_gate = c.quality_gate_first;
    quality_.final_gate = c.quality_gate_final;
    wait_for_quality_ = c.wait_for_quality;
  }
  std::string name() const override { return "player_prop_predictions"; }
  int phase() const override { return 5; }
  std::vector<std::string> inputs() const override { return {"ml_feature_store"}; }
  std::vector<std::string> output_tables() const override { return {"player_prop_predictions"}; }
  // Its commit supersedes and inserts the date's predictions only (Processor::partition_local_commits).
  bool partition_local_commits() const override { return true; }

  // Before the games: a live prediction per feature row not listed OUT, newer than the features.
  When expected_when() const override { return When::kBeforeGames; }
  Status Expect(Transaction& t, const PlanDay& d, std::vector<engine::Expectation>* out) const override {
    const std::string not_out =
        "FROM precompute_ml_feature_store f WHERE f.game_date = ?1 AND NOT EXISTS (SELECT 1 FROM "
        "analytics_upcoming_player_game_context c WHERE c.game_date = f.game_date AND c.player_id = f.player_id AND "
        "c.injury_status = 'out')";
    const std::string predicted =
        " AND EXISTS (SELECT 1 FROM player_prop_predictions p WHERE p.game_date = f.game_date AND p.player_id = "
        "f.player_id AND p.superseded_by IS NULL)";
    ASSIGN_OR_RETURN(
        auto e, CountedExpectation(t, name(), d.date, "a live prediction per feature row not listed OUT", d.pre_due_ms,
                                   "SELECT COUNT(*) " + not_out, "SELECT COUNT(*) " + not_out + predicted,
                                   "SELECT f.player_id " + not_out + " AND NOT" + predicted.substr(4)));
    ASSIGN_OR_RETURN(auto mine, LastSuccess(t, name(), d.date));
    ASSIGN_OR_RETURN(auto features_at, LastSuccess(t, "ml_feature_store", d.date));
    e.stale = mine && features_at && *mine < *features_at;
    out->push_back(std::move(e));
    return OkStatus();
  }

  Status Run(engine::RunContext& ctx) override {
    int32_t day;
    RETURN_IF_ERROR(RequireDate(ctx, &day));
    const std::string& date = ctx.data_date();
    auto current = CurrentModel(date);
    if (!current.ok()) {
      ctx.category_override = engine::FailureCategory::kConfigError;
      return current.status();
    }
    std::shared_ptr<const Model> model = *current;
    DateInputs in;
    Spread ma_spread;
    Slate slate;
    std::optional<int64_t> latest_injury;
    RETURN_IF_ERROR(ctx.store().WithRead([&](Transaction& t) -> Status {
      ASSIGN_OR_RETURN(in, LoadDateInputs(t, date));
      ASSIGN_OR_RETURN(slate, SlateOf(t, date, day));
      ASSIGN_OR_RETURN(latest_injury,
                       t.QueryInt("SELECT MAX(captured_at) FROM raw_injury_reports WHERE report_date BETWEEN ? AND ? "
                                  "AND captured_at <= ?",
                                  {FormatIsoDate(day - 1), date,
                                   std::min(ctx.clock().NowSeconds(), slate.games ? slate.first_tip_s : INT64_MAX)}));
      if (!model) {
        // moving_average's inputs are plain daily-cache columns: no feature decoding needed. Ordered,
        // so the spread's floating-point sums are the same on every backend and query plan.
        const int32_t since = std::max(SeasonStart(day), day - kSpreadHistoryDays);
        // It reads earlier dates' partitions: with several workers they may still be running, and
        // a spread fitted on part of its window would differ from a one-process run's.
        ASSIGN_OR_RETURN(auto dates, FinalGameDates(t, FormatIsoDate(since), date));
        RETURN_IF_ERROR(RequireSucceeded(t, "player_game_summary", dates, name()));
        RETURN_IF_ERROR(RequireSucceeded(t, "player_daily_cache", dates, name()));
        std::vector<double> pred, actual;
        RETURN_IF_ERROR(t.Query(
            "SELECT c.pts_avg_l5, c.pts_avg_l10, c.pts_avg_season, p.points FROM precompute_player_daily_cache c "
            "JOIN analytics_player_game_summary p ON p.player_id = c.player_id AND p.game_date = c.game_date "
            "WHERE c.game_date >= ? AND c.game_date < ? AND c.games_season >= 5 AND p.minutes > 0 "
            "ORDER BY c.game_date, c.player_id",
            {FormatIsoDate(since), date}, [&](const Row& r) {
              pred.push_back(MovingAverage(r.Double(0), r.Double(1), r.Double(2)));
              actual.push_back(r.Double(3));
              return OkStatus();
            }));
        ma_spread = Spread::Fit(pred, actual);
      }
      return OkStatus();
    }));
    const QualityJudgement quality =
        JudgeQuality(in, slate.games ? slate.first_tip_s : 0, latest_injury, ctx.clock().NowMillis(), quality_);
    if (quality.wait && wait_for_quality_) {
      ctx.defer_until_ms = quality.wait_until_ms;
      return FailedPreconditionError("predictions for " + date + " wait for better inputs (" + quality.tier +
                                     " now): " + quality.reason);
    }
    auto predicted = PredictDate(in, model.get(), ma_spread, config_);
    if (!predicted.ok()) {
      ctx.category_override = engine::FailureCategory::kConfigError;
      return predicted.status();
    }
    DatePredictions& preds = *predicted;
    ctx.records_in = static_cast<int64_t>(in.rows.size());
    ctx.expected_min_rows = preds.players > 0 ? 1 : 0;
    ctx.details = "{\"players\":" + std::to_string(preds.players) +
                  ",\"players_out\":" + std::to_string(preds.players_out) +
                  ",\"not_production_ready\":" + std::to_string(preds.not_ready) +
                  ",\"no_line\":" + std::to_string(preds.no_line) + ",\"quality_tier\":\"" + quality.tier +
                  "\",\"players_with_lines\":" + std::to_string(quality.expected) +
                  ",\"production_ready_with_lines\":" + std::to_string(quality.ready) + ",\"model\":\"" +
                  (model ? model->version() : std::string("none: moving_average only")) + "\"}";
    const int64_t now = ctx.clock().NowSeconds();
    const int64_t run_id = ctx.run_id();
    return ctx.CommitOutput([&](Transaction& t) -> Status {
      // Park the live rows (superseded_by 0 = no successor), insert, then point each parked row
      // at its successor when there is one.
      RETURN_IF_ERROR(t.Exec("UPDATE player_prop_predictions SET superseded_by = 0 WHERE game_date = ? AND "
                             "superseded_by IS NULL",
                             {date})
                          .status());
      ASSIGN_OR_RETURN(
          auto st,
          t.Prepare(
              "INSERT INTO player_prop_predictions (run_id, system_id, model_version, feature_version, game_date, "
              "game_id, player_id, player_name, team, opponent, home, predicted_points, prob_over, line, over_price, "
              "under_price, sportsbook, line_source, was_line_fallback, line_captured_at, recommendation, edge, "
              "confidence, reason, created_at, quality_tier, projected_minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
              "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
      auto opt = [](double v) { return std::isnan(v) ? store::Param() : store::Param(v); };
      auto text = [](const std::string& s) { return s.empty() ? store::Param() : store::Param(s); };
      for (const Prediction& p : preds.predictions) {
        const LineQuote* l = p.line ? &*p.line : nullptr;
        RETURN_IF_ERROR(st->ExecLater({run_id,
                                       p.system_id,
                                       p.model_version,
                                       kFeatureVersion,
                                       p.game_date,
                                       p.game_id,
                                       p.player_id,
                                       p.player_name,
                                       p.team,
                                       p.opponent,
                                       p.home,
                                       opt(p.predicted_points),
                                       opt(p.prob_over),
                                       l ? store::Param(l->line) : store::Param(),
                                       l ? store::Param(l->over) : store::Param(),
                                       l ? store::Param(l->under) : store::Param(),
                                       l ? store::Param(l->book) : store::Param(),
                                       l ? store::Param(l->source) : store::Param(),
                                       p.was_line_fallback,
                                       l ? store::Param(l->captured_at) : store::Param(),
                                       p.recommendation,
                                       opt(p.edge),
                                       text(p.confidence),
                                       text(p.reason),
                                       now,
                                       quality.tier,
                                       opt(p.projected_minutes)}));
      }
      RETURN_IF_ERROR(t.Exec("UPDATE player_prop_predictions SET superseded_by = COALESCE((SELECT n.prediction_id FROM "
                             "player_prop_predictions n WHERE n.game_date = player_prop_predictions.game_date AND "
                             "n.system_id = player_prop_predictions.system_id AND n.player_id = "
                             "player_prop_predictions.player_id AND n.superseded_by IS NULL), 0) WHERE game_date = ? "
                             "AND superseded_by = 0",
                             {date})
                          .status());
      ctx.records_out = static_cast<int64_t>(preds.predictions.size());
      return OkStatus();
    });
  }

 private:
  // The model in force for `date` (FindModelInForce), reloaded when its file changes; null when
  // none is configured or a directory holds none trained until `date`.
  StatusOr<std::shared_ptr<const Model>> CurrentModel(const std::string& date) {
    if (model_path_.empty()) return std::shared_ptr<const Model>();
    const std::string file = FindModelInForce(model_path_, date).file;
    if (file.empty()) return std::shared_ptr<const Model>();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
      return InvalidArgumentError("predictions.model_path '" + file +
                                  "' does not exist; train one with nbaprops train --until DATE --out " + file);
    }
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    if (!model_ || file != model_file_ || mtime != model_mtime_) {
      auto m = Model::Load(file);
      if (!m.ok()) return InvalidArgumentError(m.status().message());
      model_ = std::shared_ptr<const Model>(std::move(*m));
      model_file_ = file;
      model_mtime_ = mtime;
    }
    return model_;
  }

  PredictionConfig config_;
  QualityOptions quality_;
  bool wait_for_quality_ = true;
  std::string model_path_;
  std::mutex mu_;
  std::shared_ptr<const Model> model_;
  std::string model_file_;
  int64_t model_mtime_ = 0;
};

}  // namespace

std::unique_ptr<engine::Processor> MakePredictionProcessor(const Config& config) {
  return std::make_unique<PredictionProcessor>(config);
}

}  // namespace nbaprops::pipeline
