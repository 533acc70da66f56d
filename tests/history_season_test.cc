// A season imported without player lines or injury reports (data/2020-21, built by
// tools/build_history.py): it imports, its features flag the line features missing and the
// injury features defaulted, the model trains on it with the market blend left unfitted, and its
// features are point in time although its schedule has no tip-off times.
#include <gtest/gtest.h>

#include "pipeline/features.h"
#include "pipeline/model.h"
#include "pipeline/pipeline.h"
#include "tests/phase_runs.h"
#include "tests/point_in_time.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::DeleteTheFutureOf;
using nbaprops::testing::FeatureRowsOf;
using nbaprops::testing::ImportBundle;
using nbaprops::testing::RunOk;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

constexpr char kLastDate[] = "2021-01-20";

class HistorySeasonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    store_ = OpenTestStore(dir_->File("history.db")).release();
    Config config;
    config.export_dir = dir_->File("exports");
    runner_ = MakeRunner(*store_, SystemClock::Default(), config).value().release();
    ImportBundle(*runner_, "2020-21");
    const std::vector<std::string> dates = GameDates(*store_).value();
    for (const std::string& d : dates) {
      if (d > kLastDate) break;
      RunOk(*runner_, d, 3);
      RunOk(*runner_, d, 4);
    }
  }
  static void TearDownTestSuite() {
    delete runner_;
    delete store_;
    delete dir_;
  }
  // Feature rows of `date` whose `feature` has quality `q`.
  static int64_t WithQuality(const std::string& date, const char* feature, char q) {
    return Count(*store_,
                 "SELECT COUNT(*) FROM precompute_ml_feature_store WHERE game_date = ? AND substr(feature_quality, " +
                     std::to_string(FeatureIndex(feature) + 1) + ", 1) = ?",
                 {date, std::string(1, q)});
  }
  static std::string Features(const std::string& date) { return FeatureRowsOf(*store_, date); }
  static TempDir* dir_;
  static store::Store* store_;
  static engine::Runner* runner_;
};
TempDir* HistorySeasonTest::dir_ = nullptr;
store::Store* HistorySeasonTest::store_ = nullptr;
engine::Runner* HistorySeasonTest::runner_ = nullptr;

TEST_F(HistorySeasonTest, ImportsAndTrainsWithLineFeaturesMissingAndInjuryFeaturesDefaulted) {
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_player_props"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_injury_reports"), 0);
  EXPECT_GT(Count(*store_, "SELECT COUNT(*) FROM raw_game_lines"), 1000);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule WHERE tipoff_utc IS NOT NULL"), 0);

  const std::string date = "2021-01-15";
  const int64_t rows = Count(*store_, "SELECT COUNT(*) FROM precompute_ml_feature_store WHERE game_date = ?", {date});
  ASSERT_GT(rows, 100);
  for (const char* feature : {"line", "line_implied_over", "line_consensus", "line_minus_season_avg"}) {
    EXPECT_EQ(WithQuality(date, feature, 'm'), rows) << feature;
  }
  // The closing game lines carry no capture time, so they are not known before tip-off.
  for (const char* feature : {"game_total", "team_spread"}) EXPECT_EQ(WithQuality(date, feature, 'm'), rows) << feature;
  for (const char* feature : {"teammates_out", "points_freed", "minutes_freed", "usage_spike", "injury_questionable"}) {
    EXPECT_EQ(WithQuality(date, feature, 'd'), rows) << feature;
  }
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM precompute_ml_feature_store WHERE game_date = ? AND feature_sources LIKE "
                  "'%default:no_injury_report%'",
                  {date}),
            rows);
  EXPECT_GT(WithQuality(date, "pts_avg_l5", 'o'), rows / 2);  // what the box scores give is observed

  TrainingSet data;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(data, LoadTrainingSet(t, "2020-12-22", kLastDate));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_GT(data.size(), 2000u);
  TrainOptions options;
  options.rounds = 50;
  auto model = Model::Train(data, options, kLastDate);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->market.n_fit, 0);  // no lines: the market system is the (absent) market itself
  EXPECT_EQ((*model)->market.weight, 0);
  std::vector<const FeatureRow*> some;
  for (size_t i = data.size() - 50; i < data.size(); ++i) some.push_back(&data.rows[i]);
  auto predicted = (*model)->PredictXgboost(some);
  ASSERT_TRUE(predicted.ok());
  for (double p : *predicted) EXPECT_TRUE(p > 0 && p < 80) << p;
}

// Point in time on a season without tip-off times: the cutoff is noon ET of the date.
TEST_F(HistorySeasonTest, FeaturesAreByteIdenticalAfterDeletingTheFuture) {
  for (const std::string date : {"2021-01-18", "2021-01-06"}) {
    SCOPED_TRACE(date);
    const std::string before = Features(date);
    ASSERT_GT(before.size(), 1000u);
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) { return DeleteTheFutureOf(t, date); }).ok());
    RunOk(*runner_, date, 3);
    RunOk(*runner_, date, 4);
    EXPECT_EQ(Features(date), before);
  }
}

}  // namespace
}  // namespace nbaprops::pipeline
