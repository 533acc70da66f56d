// Phase 5: the prediction coordinator. For a date: every player with a game, not listed OUT,
// with a feature row; the line chosen by the sportsbook chain (pipeline/lines.h); every
// available system (pipeline/model.h) predicts points, a calibrated probability of going over,
// the edge and a recommendation:
//
//   NO_LINE  no pre-tip line for the player-game
//   PASS     the feature row is not production-ready, or |edge| < min_edge, or the chosen
//            side's probability < min_probability; for the market system (which starts from
//            the line, so its edge in points is small by design): its P(side) beats the
//            vig-free market's P(side) by less than min_market_edge
//   OVER / UNDER otherwise; confidence high (>= 0.65), medium (>= 0.58) or low.
//
// Table player_prop_predictions. Re-running a date supersedes the earlier predictions: they are
// kept, with superseded_by naming the new prediction of the same (system, player), or 0 when the
// new run made none for that player (e.g. he has since been listed OUT).
#ifndef NBAPROPS_PIPELINE_PREDICTIONS_H_
#define NBAPROPS_PIPELINE_PREDICTIONS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "engine/processor.h"
#include "pipeline/features.h"
#include "pipeline/lines.h"
#include "pipeline/model.h"
#include "store/store.h"

namespace nbaprops::pipeline {

struct PredictionConfig {
  std::vector<std::string> chain;
  LinePolicy policy = LinePolicy::kOpening;
  double min_edge = 1.5, min_probability = 0.55;
  double min_market_edge = 0.03;  // the market system's rule instead of the two above
};
PredictionConfig PredictionConfigFrom(const Config& config);

struct Prediction {
  std::string system_id, model_version, game_date, game_id, player_id, player_name, team, opponent;
  int home = 0;
  double predicted_points = 0, prob_over = 0, edge = 0;  // NaN when unknown
  double projected_minutes = 0;  // the model's minutes projection of the player; NaN without a model
  std::optional<LineQuote> line;     // the line predicted against
  bool was_line_fallback = false;
  std::optional<LineQuote> closing;  // the same book's latest pre-tip quote, when later
  std::string recommendation;        // OVER | UNDER | PASS | NO_LINE
  std::string confidence;            // high | medium | low; empty for PASS / NO_LINE
  std::string reason;                // why PASS, in words
};

// What a date's predictions are made from (all point-in-time by construction of phase 3-4).
struct DateInputs {
  std::string date;
  std::vector<FeatureRow> rows;
  struct Player {
    std::string name, injury_status;
  };
  std::map<std::string, Player> players;
  std::map<std::string, std::vector<LineQuote>> quotes;  // player -> pre-tip snapshots
};
StatusOr<DateInputs> LoadDateInputs(store::Transaction& t, const std::string& date);

struct DatePredictions {
  std::vector<Prediction> predictions;  // by player, then system
  int64_t players = 0, players_out = 0, not_ready = 0, no_line = 0;
};

// Runs the systems on the date's rows. `model` may be null (moving_average only, with
// `ma_spread`); a model trained on games on or after the date is refused (it has seen them).
StatusOr<DatePredictions> PredictDate(const DateInputs& in, const Model* model, const Spread& ma_spread,
                                      const PredictionConfig& config);

// A live (not superseded) row of player_prop_predictions, as grading and the exports read it.
struct StoredPrediction {
  int64_t id = 0;
  std::string system, version, game_id, player_id, player, team, opponent, recommendation;
  std::optional<std::string> quality_tier;
  int home = 0;
  bool fallback = false;
  std::optional<double> predicted, line, edge, prob, projected_minutes;
  std::optional<std::string> book, source, confidence;
  std::optional<int64_t> over, under, line_at;
};
// Degraded mode. Predictions wait for complete inputs while waiting can still help, and accept
// less as tip-off nears; each prediction records the tier it was made at:
//   gold    >= first_gate (85%) of the players with a line (not listed OUT) have production-ready
//           features, and an injury report was captured within injury_fresh_hours before
//           min(now, first tip)
//   silver  >= final_gate (70%)
//   bronze  less (made only once waiting cannot help any more)
// Gates by time: before first tip - final_retry_lead (2 h) a run needs gold, else it defers until
// then (listing what is missing); from then until the first tip it needs silver; at or after the
// first tip (including every backfill of past dates) it proceeds with whatever tier it has.
struct QualityOptions {
  double first_gate = 0.85, final_gate = 0.70;
  int64_t final_retry_lead_ms = 2 * 3'600'000;
  int injury_fresh_hours = 36;
};
struct QualityJudgement {
  std::string tier;     // gold | silver | bronze
  bool wait = false;    // defer: better inputs can still arrive in time
  int64_t wait_until_ms = 0;
  int64_t expected = 0, ready = 0;  // players with a line (not OUT); of them, production-ready
  bool injury_fresh = true;
  std::string reason;   // what falls short, for the deferral message and the run details
};
// `latest_injury_s`: the newest injury report captured at or before min(now, first tip).
QualityJudgement JudgeQuality(const DateInputs& in, int64_t first_tip_s, std::optional<int64_t> latest_injury_s,
                              int64_t now_ms, const QualityOptions& options);

// The date's live predictions by game, team, player and system.
StatusOr<std::vector<StoredPrediction>> LoadLivePredictions(store::Transaction& t, const std::string& date);

// The phase-5 processor `player_prop_predictions` (input ml_feature_store). Uses the model file
// of predictions.model_path when set; without one it predicts with moving_average only, its
// spread fitted on the season's earlier games.
std::unique_ptr<engine::Processor> MakePredictionProcessor(const Config& config);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PREDICTIONS_H_
