#include "pipeline/model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "base/file.h"
#include "base/time.h"
#include "pipeline/predictions.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

// 1,200 synthetic player-games over 60 days: points depend on last-5 average and minutes; minutes
// on the last-10 minutes and on how many teammates are out (2 more per teammate out).
TrainingSet Synthetic() {
  TrainingSet set;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 4);
  const size_t n = FeatureContract().size();
  for (int i = 0; i < 1200; ++i) {
    FeatureRow r;
    r.game_date = FormatIsoDate(*ParseIsoDate("2023-11-01") + i / 20);
    r.player_id = "p" + std::to_string(i % 20);
    r.values.assign(n, std::nan(""));
    double l5 = 5 + (i * 37 % 25), minutes = 15 + (i * 11 % 20);
    r.values[FeatureIndex("pts_avg_l5")] = l5;
    r.values[FeatureIndex("pts_avg_l10")] = l5 + 0.5;
    r.values[FeatureIndex("pts_avg_season")] = l5 - 0.5;
    r.values[FeatureIndex("minutes_avg_l10")] = minutes;
    const int out = i % 3;
    r.values[FeatureIndex("teammates_out")] = out;
    r.quality.assign(n, 'o');
    r.production_ready = true;
    set.points.push_back(std::max(0.0, 0.9 * l5 + 0.1 * minutes + noise(rng)));
    set.minutes.push_back(std::clamp(minutes + 2.0 * out + noise(rng) / 2, 0.0, 48.0));
    set.rows.push_back(std::move(r));
  }
  return set;
}

TrainOptions Fast() {
  TrainOptions o;
  o.rounds = 40;
  return o;
}

TEST(Model, TrainsSavesAndLoadsWithIdenticalPredictions) {
  TrainingSet data = Synthetic();
  auto m = Model::Train(data, Fast(), "2024-01-01");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<const FeatureRow*> rows;
  for (int i = 0; i < 50; ++i) rows.push_back(&data.rows[i]);
  auto before = (*m)->PredictXgboost(rows);
  ASSERT_TRUE(before.ok());
  // The booster learned something: clearly better than predicting the mean.
  double mae = 0, mae_mean = 0, mean = 0;
  for (double p : data.points) mean += p / data.points.size();
  for (int i = 0; i < 50; ++i) {
    mae += std::abs((*before)[i] - data.points[i]) / 50;
    mae_mean += std::abs(mean - data.points[i]) / 50;
  }
  EXPECT_LT(mae, 0.7 * mae_mean);
  EXPECT_GT((*m)->xgb_spread.Sd(20), Spread::kMinSd);

  std::string path = (std::filesystem::temp_directory_path() / "nbaprops-model-test.json").string();
  ASSERT_TRUE((*m)->Save(path).ok());
  auto loaded = Model::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->version(), (*m)->version());
  EXPECT_EQ((*loaded)->trained_until(), "2024-01-01");
  auto after = (*loaded)->PredictXgboost(rows);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*before, *after);
  EXPECT_EQ((*loaded)->ensemble_weight, (*m)->ensemble_weight);
  EXPECT_EQ((*loaded)->market.weight, (*m)->market.weight);
  EXPECT_EQ((*loaded)->market.slope, (*m)->market.slope);
  EXPECT_EQ((*loaded)->market.n_fit, (*m)->market.n_fit);

  // A model file from another feature version is refused, naming both versions.
  std::string text = ReadFile(path).value();
  std::string old = "\"feature_version\":\"" + std::string(kFeatureVersion) + "\"";
  size_t at = text.find(old);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, old.size(), "\"feature_version\":\"points-v0\"");
  ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  auto refused = Model::Load(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("points-v0"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find(std::string(kFeatureVersion)), std::string::npos);
  EXPECT_NE(refused.status().message().find("nbaprops train"), std::string::npos);
  std::filesystem::remove(path);
}

double MinutesMae(const std::vector<double>& projected, const TrainingSet& data, size_t from) {
  double s = 0;
  for (size_t i = from; i < data.size(); ++i) s += std::abs(projected[i - from] - data.minutes[i]);
  return s / static_cast<double>(data.size() - from);
}

// The minutes projection learns what the last-10 minutes miss (teammates out) and is judged on
// games after the training window. With minutes_feature it is also a column of the points
// booster; either way the file keeps both boosters and which way it was trained.
TEST(Model, ProjectsMinutesBetterThanTheLastTenAverageAndKeepsItInTheFile) {
  TrainingSet all = Synthetic();
  TrainingSet train;
  const size_t cut = 1000;  // days 0-49 train, 50-59 judge
  train.rows.assign(all.rows.begin(), all.rows.begin() + cut);
  train.points.assign(all.points.begin(), all.points.begin() + cut);
  train.minutes.assign(all.minutes.begin(), all.minutes.begin() + cut);
  std::vector<const FeatureRow*> later;
  std::vector<double> l10;
  for (size_t i = cut; i < all.size(); ++i) {
    later.push_back(&all.rows[i]);
    l10.push_back(all.rows[i].at("minutes_avg_l10"));
  }
  for (bool feed : {false, true}) {
    SCOPED_TRACE(feed ? "minutes_feature" : "minutes projection only");
    TrainOptions o = Fast();
    o.minutes_rounds = 60;
    o.minutes_feature = feed;
    auto m = Model::Train(train, o, "2023-12-21");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    EXPECT_EQ((*m)->minutes_feature, feed);
    auto projected = (*m)->PredictMinutes(later);
    ASSERT_TRUE(projected.ok());
    EXPECT_LT(MinutesMae(*projected, all, cut), 0.75 * MinutesMae(l10, all, cut))
        << MinutesMae(*projected, all, cut) << " vs " << MinutesMae(l10, all, cut);
    const nlohmann::json metrics = nlohmann::json::parse((*m)->metrics_json);
    EXPECT_LT(metrics.at("mae_holdout_minutes").get<double>(), metrics.at("mae_holdout_minutes_avg_l10").get<double>());

    nbaprops::testing::TempDir dir;
    const std::string path = dir.File("m.json");
    ASSERT_TRUE((*m)->Save(path).ok());
    auto loaded = Model::Load(path);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ((*loaded)->minutes_feature, feed);
    EXPECT_EQ(*(*loaded)->PredictMinutes(later), *projected);
    EXPECT_EQ(*(*loaded)->PredictXgboost(later), *(*m)->PredictXgboost(later));
    // The points booster reads one column more when it is fed the projection.
    const nlohmann::json doc = nlohmann::json::parse(ReadFile(path).value());
    const std::string ncol =
        doc.at("booster").at("learner").at("learner_model_param").at("num_feature").get<std::string>();
    EXPECT_EQ(ncol, std::to_string(FeatureContract().size() + (feed ? 1 : 0)));
  }
}

// A file of format 1 (before the minutes booster) is refused with what to do.
TEST(Model, RefusesAModelFileOfAnEarlierFormat) {
  auto m = Model::Train(Synthetic(), Fast(), "2024-01-01");
  ASSERT_TRUE(m.ok());
  nbaprops::testing::TempDir dir;
  const std::string path = dir.File("m.json");
  ASSERT_TRUE((*m)->Save(path).ok());
  nlohmann::json doc = nlohmann::json::parse(ReadFile(path).value());
  doc["format_version"] = 1;
  doc.erase("minutes");
  ASSERT_TRUE(WriteFileAtomic(path, doc.dump()).ok());
  auto refused = Model::Load(path);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("format version 1"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("nbaprops train"), std::string::npos);
}

TEST(Model, RefusesTooLittleDataAndRowsFromTheFuture) {
  TrainingSet data = Synthetic();
  EXPECT_FALSE(Model::Train(data, Fast(), "2023-12-01").ok());  // rows on/after the cutoff
  data.rows.resize(100);
  data.points.resize(100);
  auto few = Model::Train(data, Fast(), "2024-01-01");
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("need 500"), std::string::npos);
}

TEST(Model, PredictDateRefusesAModelThatSawTheDate) {
  auto m = Model::Train(Synthetic(), Fast(), "2024-01-01");
  ASSERT_TRUE(m.ok());
  DateInputs in;
  in.date = "2023-12-20";
  auto p = PredictDate(in, m->get(), Spread{}, PredictionConfig{});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("trained on games up to 2024-01-01"), std::string::npos);
}

// The rule the predictions processor and the model guards share: a file is itself; in a
// directory the newest points-YYYY-MM-DD.json trained until the date or earlier, names that only
// look like one ignored.
TEST(Model, TheModelInForceIsTheNewestTrainedUntilTheDate) {
  nbaprops::testing::TempDir dir;
  const std::string models = dir.File("models");
  std::filesystem::create_directories(models);
  for (const char* name : {"points-2024-01-01.json", "points-2024-02-01.json", "points-2024-01-20.json.bak",
                           "points-2024-13-01.json", "points-2024-01-2x.json", "other.json"}) {
    std::ofstream(models + "/" + name) << "{}";
  }

  const ModelInForce jan = FindModelInForce(models, "2024-01-24");
  EXPECT_TRUE(jan.directory);
  EXPECT_EQ(jan.file, models + "/points-2024-01-01.json");
  EXPECT_EQ(jan.trained_until, "2024-01-01");
  EXPECT_EQ(FindModelInForce(models, "2024-02-01").file, models + "/points-2024-02-01.json");  // until D: in force on D
  EXPECT_EQ(FindModelInForce(models, "2024-01-31").file, models + "/points-2024-01-01.json");
  const ModelInForce none = FindModelInForce(models, "2023-12-31");
  EXPECT_TRUE(none.directory);
  EXPECT_EQ(none.file, "");
  EXPECT_EQ(none.trained_until, "");

  const ModelInForce file = FindModelInForce(models + "/points-2024-02-01.json", "2023-01-01");
  EXPECT_FALSE(file.directory);
  EXPECT_EQ(file.file, models + "/points-2024-02-01.json");
  EXPECT_EQ(file.trained_until, "");
}

TEST(Model, SpreadGrowsWithThePredictionAndHasAFloor) {
  std::vector<double> pred, actual;
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) {
    double p = 5 + i % 30;
    std::normal_distribution<double> d(0, 1 + 0.2 * p);
    pred.push_back(p);
    actual.push_back(p + d(rng));
  }
  Spread s = Spread::Fit(pred, actual);
  EXPECT_GT(s.Sd(30), s.Sd(5));
  EXPECT_NEAR(s.Sd(30), 7.0, 0.6);  // true sd 1 + 0.2 x 30
  EXPECT_EQ((Spread{0, 0}.Sd(10)), Spread::kMinSd);
}

// The market system starts from the line: without held-out games with a line it is the market
// itself (points = line, P(over) = the vig-free market's), and the booster never sees the line.
TEST(Model, TheMarketSystemIsTheMarketUntilLinesTeachItMoreAndTheBoosterIsLineBlind) {
  TrainingSet data = Synthetic();  // no lines
  auto m = Model::Train(data, Fast(), "2024-01-01");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->market.n_fit, 0);
  FeatureRow a = data.rows[0], b = data.rows[0];
  a.values[FeatureIndex("line")] = 20.5;
  a.values[FeatureIndex("line_implied_over")] = 0.56;
  b.values[FeatureIndex("line")] = 9.5;
  b.values[FeatureIndex("line_minus_season_avg")] = -3;
  auto systems = PredictSystems({&a, &b, &data.rows[1]}, m->get(), Spread{});
  ASSERT_TRUE(systems.ok());
  ASSERT_EQ(systems->size(), 4u);
  const SystemPoints& xgb = (*systems)[1];
  const SystemPoints& market = (*systems)[3];
  ASSERT_EQ(xgb.system_id, "xgboost");
  ASSERT_EQ(market.system_id, "market");
  EXPECT_EQ(xgb.points[0], xgb.points[1]);  // only the line differs
  EXPECT_EQ(market.points[0], 20.5);
  EXPECT_DOUBLE_EQ(market.prob_over[0], 0.56);
  EXPECT_EQ(market.points[1], 9.5);
  EXPECT_DOUBLE_EQ(market.prob_over[1], 0.5);  // no prices: an even market
  EXPECT_TRUE(std::isnan(market.points[2]));   // no line, no market prediction
  EXPECT_TRUE(std::isnan(market.prob_over[2]));
}

// Where the features know something the line does not, the blend moves off the line just enough
// to beat it, and P(over) leans the same way; with too few games it does not move at all.
TEST(Model, TheMarketBlendLearnsWhatTheLineMissesFromEnoughGames) {
  std::mt19937 rng(11);
  std::normal_distribution<double> n1(0, 1), n3(0, 3), n4(0, 4);
  auto sample = [&](int n, std::vector<double>* xgb, std::vector<double>* line, std::vector<double>* p,
                    std::vector<double>* actual) {
    for (int i = 0; i < n; ++i) {
      const double mu = 8 + i % 20;
      xgb->push_back(mu + n1(rng));
      line->push_back(std::round(2 * (mu + n3(rng))) / 2 + 0.5);
      p->push_back(0.5);
      actual->push_back(std::max(0.0, std::round(mu + n4(rng))));
    }
  };
  std::vector<double> xgb, line, p, actual;
  sample(2000, &xgb, &line, &p, &actual);
  MarketBlend few;
  few.Fit({xgb.begin(), xgb.begin() + 299}, {line.begin(), line.begin() + 299}, {p.begin(), p.begin() + 299},
          {actual.begin(), actual.begin() + 299});
  EXPECT_EQ(few.n_fit, 0);
  EXPECT_EQ(few.Points(20.5, 30), 20.5);
  EXPECT_DOUBLE_EQ(few.ProbOver(0.6, 20.5, 30), 0.6);

  MarketBlend b;
  b.Fit(xgb, line, p, actual);
  EXPECT_EQ(b.n_fit, 2000);
  EXPECT_GT(b.weight, 0.4);
  EXPECT_GT(b.slope, 0.05);
  EXPECT_GT(b.ProbOver(0.5, 20.5, 25), 0.6);
  std::vector<double> xgb2, line2, p2, actual2;  // fresh games
  sample(2000, &xgb2, &line2, &p2, &actual2);
  double mae_blend = 0, mae_line = 0;
  for (size_t i = 0; i < xgb2.size(); ++i) {
    mae_blend += std::abs(b.Points(line2[i], xgb2[i]) - actual2[i]);
    mae_line += std::abs(line2[i] - actual2[i]);
  }
  EXPECT_LT(mae_blend, 0.95 * mae_line);
}

// The market system picks a side only when its P(side) beats the vig-free market's by
// min_market_edge; its points edge does not matter (it is small by design).
TEST(Model, TheMarketSystemPicksOnlyWhenItBeatsTheVigFreeMarketByTheMargin) {
  TrainingSet data = Synthetic();
  auto m = Model::Train(data, Fast(), "2024-01-01");
  ASSERT_TRUE(m.ok());
  DateInputs in;
  in.date = "2024-01-02";
  FeatureRow row = data.rows[0];
  row.game_date = in.date;
  row.values[FeatureIndex("line")] = 20.5;
  row.values[FeatureIndex("line_implied_over")] = 0.5;
  in.rows.push_back(row);
  LineQuote q;
  q.book = "draftkings";
  q.captured_at = 1;
  q.line = 20.5;
  q.over = q.under = -110;
  in.quotes[row.player_id] = {q};
  auto market_pick = [&](double intercept) {
    (*m)->market.intercept = intercept;  // P(over) = logistic(intercept): the slope is 0 unfitted
    auto p = PredictDate(in, m->get(), Spread{}, PredictionConfig{});
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    for (const Prediction& pred : p->predictions) {
      if (pred.system_id == "market") return pred;
    }
    ADD_FAILURE() << "no market prediction";
    return Prediction{};
  };
  Prediction pass = market_pick(0.08);  // P(over) 0.52: within 0.03 of 0.5
  EXPECT_EQ(pass.recommendation, "PASS");
  EXPECT_NE(pass.reason.find("within 0.03 of the market's 0.5"), std::string::npos) << pass.reason;
  EXPECT_EQ(pass.predicted_points, 20.5);
  Prediction over = market_pick(0.2);  // 0.55
  EXPECT_EQ(over.recommendation, "OVER");
  EXPECT_NEAR(over.prob_over, 0.5498, 1e-4);
  EXPECT_EQ(market_pick(-0.2).recommendation, "UNDER");
  // A market leaning over already (-150 / +120: 0.569 vig-free): agreeing with it is no pick.
  in.quotes[row.player_id][0].over = -150;
  in.quotes[row.player_id][0].under = 120;
  const double p_market = *VigFreeProbOver(in.quotes[row.player_id][0]);
  in.rows[0].values[FeatureIndex("line_implied_over")] = p_market;
  Prediction agree = market_pick(0.0);
  EXPECT_EQ(agree.recommendation, "PASS");
  EXPECT_NEAR(agree.prob_over, p_market, 1e-12);
  EXPECT_EQ(market_pick(0.2).recommendation, "OVER");  // 0.617
}

}  // namespace
}  // namespace nbaprops::pipeline
