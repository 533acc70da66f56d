// Degraded mode: the quality tier a date's predictions are made at, and when they wait instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time.h"
#include "pipeline/predictions.h"

namespace nbaprops::pipeline {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kTip = 1'707'076'800;  // 2024-02-04T20:00:00Z
constexpr int64_t kHour = 3600;

// 20 players with a line; `ready` of them have production-ready features; player 19 is OUT.
DateInputs Inputs(int ready) {
  DateInputs in;
  in.date = "2024-02-04";
  for (int i = 0; i < 20; ++i) {
    const std::string id = "p" + std::to_string(i);
    in.quotes[id].push_back(LineQuote{"draftkings", "rotowire", kTip - 5 * kHour, 20.5, -110, -110});
    in.players[id] = {"Player " + std::to_string(i), i == 19 ? "out" : ""};
    FeatureRow r;
    r.player_id = id;
    r.production_ready = i < ready;
    in.rows.push_back(r);
  }
  return in;
}

QualityJudgement Judge(int ready, int64_t now_s, std::optional<int64_t> injury = kTip - 3 * kHour) {
  return JudgeQuality(Inputs(ready), kTip, injury, now_s * 1000, QualityOptions{});
}

TEST(QualityTest, GoldNeedsEightyFivePercentAndAFreshInjuryReport) {
  QualityJudgement j = Judge(17, kTip - 6 * kHour);  // 17 of the 19 not OUT: 89%
  EXPECT_EQ(j.expected, 19);
  EXPECT_EQ(j.ready, 17);
  EXPECT_EQ(j.tier, "gold");
  EXPECT_FALSE(j.wait);
}

TEST(QualityTest, EarlyRunsWaitForGoldUntilTheFinalRetryWindow) {
  QualityJudgement j = Judge(15, kTip - 6 * kHour);  // 79%
  EXPECT_EQ(j.tier, "silver");
  EXPECT_TRUE(j.wait);
  EXPECT_EQ(j.wait_until_ms, (kTip - 2 * kHour) * 1000);
  EXPECT_THAT(j.reason, HasSubstr("15 of 19 players with a line (79%)"));
  EXPECT_THAT(j.reason, HasSubstr("Player 15"));
  // Within two hours of the first tip, silver is accepted.
  EXPECT_FALSE(Judge(15, kTip - 90 * 60).wait);
}

TEST(QualityTest, BelowSeventyPercentWaitsUntilTipOffThenIsBronze) {
  EXPECT_TRUE(Judge(12, kTip - 30 * 60).wait);  // 63%
  QualityJudgement late = Judge(12, kTip + 60);
  EXPECT_FALSE(late.wait);
  EXPECT_EQ(late.tier, "bronze");
  // A backfill of a past date never waits.
  EXPECT_FALSE(Judge(0, kTip + 400 * 24 * kHour).wait);
}

TEST(QualityTest, AStaleInjuryReportCapsTheTierAtSilver) {
  QualityJudgement stale = Judge(19, kTip - 6 * kHour, kTip - 48 * kHour);
  EXPECT_FALSE(stale.injury_fresh);
  EXPECT_EQ(stale.tier, "silver");
  EXPECT_TRUE(stale.wait);
  EXPECT_THAT(stale.reason, HasSubstr("no injury report in the 36 h before"));
  EXPECT_EQ(Judge(19, kTip - 6 * kHour, std::nullopt).tier, "silver");
  // Without lines nothing is expected, and there is nothing to wait for.
  DateInputs none;
  QualityJudgement j = JudgeQuality(none, kTip, std::nullopt, (kTip - 6 * kHour) * 1000, QualityOptions{});
  EXPECT_EQ(j.tier, "gold");
  EXPECT_FALSE(j.wait);
}

}  // namespace
}  // namespace nbaprops::pipeline
