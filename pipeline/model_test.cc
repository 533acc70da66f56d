#include "pipeline/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/file.h"
#include "base/time.h"
#include "pipeline/predictions.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

// 1,200 synthetic player-games over 60 days: points depend on last-5 average and minutes.
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
    r.quality.assign(n, 'o');
    r.production_ready = true;
    set.points.push_back(std::max(0.0, 0.9 * l5 + 0.1 * minutes + noise(rng)));
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

}  // namespace
}  // namespace nbaprops::pipeline
