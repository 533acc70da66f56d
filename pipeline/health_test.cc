#include "pipeline/health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/time.h"
#include "engine/incidents.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using ::testing::HasSubstr;

// 20 graded days of one system, each with `day` wins and 1 loss, so any window's totals say
// exactly which days it summed.
void SeedPerformance(store::Store& s) {
  ASSERT_TRUE(s.WithWrite([](store::Transaction& t) -> Status {
                 for (int day = 1; day <= 20; ++day) {
                   const std::string date = FormatIsoDate(*ParseIsoDate("2024-02-01") + (day - 1) * 2);  // every 2nd day
                   RETURN_IF_ERROR(t.Exec("INSERT INTO prediction_performance_daily VALUES (?, 'xgboost', 10, 5, ?, 1, "
                                          "0, 0, 0, 0.5, 4, 5.0, 6.0, 0, NULL)",
                                          {date, day})
                                       .status());
                 }
                 RETURN_IF_ERROR(t.Exec("INSERT INTO raw_schedule (game_id, game_date, home_team, away_team, status, "
                                        "source, payload_id) VALUES ('g1', '2024-03-10', 'OKC', 'DEN', 'final', 't', 1), "
                                        "('g2', '2024-03-10', 'ATL', 'BOS', 'postponed', 't', 1)")
                                     .status());
                 RETURN_IF_ERROR(t.Exec("INSERT INTO deadlines (deadline_key, data_date, due_at, status, checked_at) "
                                        "VALUES ('predictions', '2024-03-10', 0, 'met_late', 0)")
                                     .status());
                 RETURN_IF_ERROR(t.Exec("INSERT INTO circuit_breakers (source, state, last_change_at) VALUES "
                                        "('odds_api', 'open', 0), ('inbox', 'closed', 0)")
                                     .status());
                 return engine::OpenIncident(t, "k", "warning", "something odd", "{}", 1000);
               }).ok());
}

TEST(HealthSummaryTest, CountsTheDayAndTheLastFourteenGradedDays) {
  testing::TempDir dir;
  auto store = testing::OpenTestStore(dir.File("h.db"));
  SeedPerformance(*store);
  // 2024-03-10 is graded day 20; the window is days 7..20 (14 rows), skipping the gaps between them.
  HealthSummary s;
  ASSERT_TRUE(store->WithRead([&](store::Transaction& t) -> Status {
                     ASSIGN_OR_RETURN(s, BuildHealthSummary(t, "2024-03-10", 1'000'000));
                     return OkStatus();
                   }).ok());
  EXPECT_EQ(s.games, 2);
  EXPECT_EQ(s.games_final, 1);
  EXPECT_EQ(s.games_postponed, 1);
  ASSERT_EQ(s.systems.size(), 1u);
  const auto& x = s.systems[0];
  EXPECT_EQ(x.wins, 20);
  EXPECT_EQ(x.window_days, 14);
  EXPECT_EQ(x.window_wins, (7 + 20) * 14 / 2);
  EXPECT_EQ(x.window_losses, 14);
  EXPECT_DOUBLE_EQ(x.window_mae_model, 5.0);
  EXPECT_DOUBLE_EQ(x.window_mae_line, 6.0);
  EXPECT_GT(x.window_ci_lo, 0.8);
  EXPECT_LT(x.window_ci_hi, 1.0);
  ASSERT_EQ(s.open_incidents.size(), 1u);
  EXPECT_THAT(HealthSummaryText(s), HasSubstr("warning k: something odd"));
  auto j = nlohmann::json::parse(HealthSummaryJson(s));
  EXPECT_EQ(j["systems"][0]["last_14_graded_days"]["days"], 14);
  EXPECT_EQ(j["games"]["postponed"], 1);
  EXPECT_EQ(j["deadlines"]["predictions"], "met_late");
  EXPECT_EQ(j["breakers_not_closed"], nlohmann::json({{"odds_api", "open"}}));
  EXPECT_THAT(HealthSummaryText(s), HasSubstr("breakers not closed: 1 odds_api (open)"));

  // Day 3 (2024-02-05) only has three graded days up to it.
  ASSERT_TRUE(store->WithRead([&](store::Transaction& t) -> Status {
                     ASSIGN_OR_RETURN(s, BuildHealthSummary(t, "2024-02-05", 1'000'000));
                     return OkStatus();
                   }).ok());
  EXPECT_EQ(s.systems[0].window_days, 3);
  EXPECT_EQ(s.systems[0].window_wins, 1 + 2 + 3);
}

TEST(HealthSummaryTest, RejectsABadDate) {
  testing::TempDir dir;
  auto store = testing::OpenTestStore(dir.File("h.db"));
  Status st = store->WithRead([&](store::Transaction& t) { return BuildHealthSummary(t, "2024-13-01", 0).status(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("2024-13-01"));
}

}  // namespace
}  // namespace nbaprops::pipeline
