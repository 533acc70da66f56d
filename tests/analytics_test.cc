// Phase 3 on small real-shaped inputs: summaries, idempotency, point-in-time context.
#include "pipeline/analytics.h"

#include <gtest/gtest.h>

#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

// Two DEN games a day apart (a back-to-back), with lines captured before and after tip-off.
constexpr char kSchedule[] =
    "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points\n"
    "0022300640,2024-01-30,2024-01-31T00:30:00Z,ATL,DEN,final,10,24\n"
    "0022300653,2024-01-31,2024-02-01T01:00:00Z,OKC,DEN,final,8,18\n";
constexpr char kBox[] =
    "game_id,game_date,team,player_id,player_name,minutes,points,fgm,fga,fg3m,fg3a,ftm,fta,oreb,tov\n"
    "0022300640,2024-01-30,DEN,203999,Nikola Jokic,34,20,8,15,0,1,4,4,3,4\n"
    "0022300640,2024-01-30,DEN,1627750,Jamal Murray,30,4,2,9,0,3,0,0,0,1\n"
    "0022300640,2024-01-30,ATL,1629027,Trae Young,36,10,4,15,2,8,0,0,0,5\n"
    "0022300653,2024-01-31,DEN,1627750,Jamal Murray,36,18,7,17,2,6,2,2,1,2\n"
    "0022300653,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8,3,12,0,2,2,3,0,3\n";
constexpr char kProps[] =
    "captured_at_utc,game_date,player_name,opponent,home_away,sportsbook,line,over_price,under_price,snapshot\n"
    // Jokić's line on 01-31, captured before tip-off: used.
    "2024-01-31T15:00:00Z,2024-01-31,Nikola Jokic,OKC,away,draftkings,26.5,-115,-105,open\n"
    // Captured after tip-off (late scrape): never used.
    "2024-02-01T02:10:00Z,2024-01-31,Jamal Murray,OKC,away,draftkings,12.5,-115,-105,close\n"
    // Filed under 01-31 but about last night's game at ATL: opponent does not match, not used.
    "2024-01-31T09:10:00Z,2024-01-31,Jamal Murray,ATL,away,fanduel,21.5,-110,-110,open\n";
constexpr char kInjuries[] =
    "captured_at_utc,report_date,team,player_name,status,details\n"
    "2024-01-31T17:00:00Z,2024-01-31,DEN,Nikola Jokic,Out,Hip\n"
    "2024-02-01T03:00:00Z,2024-01-31,DEN,Jamal Murray,Out,after the game: must not count\n";

class AnalyticsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string skip;
    const std::string url = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip);
    if (url.empty()) GTEST_SKIP() << skip;
    store_ = OpenTestStore(url);
    runner_ = std::move(MakeRunner(*store_, clock_, nbaprops::testing::SmallFixtureConfig()).value());
    dir_.Write("in/schedule.csv", kSchedule);
    dir_.Write("in/box.csv", kBox);
    dir_.Write("in/props.csv", kProps);
    dir_.Write("in/injuries.csv", kInjuries);
    Ingestor ing(*runner_);
    for (const auto& r : ing.ImportPaths({dir_.File("in")}, std::nullopt)) ASSERT_TRUE(r.status.ok()) << r.path;
  }
  std::string Text(const std::string& sql) {
    std::string out;
    EXPECT_TRUE(store_->WithRead([&](store::Transaction& t) -> Status {
                  ASSIGN_OR_RETURN(auto v, t.QueryText(sql));
                  out = v.value_or("<null>");
                  return OkStatus();
                }).ok());
    return out;
  }

  TempDir dir_;
  FakeClock clock_{1'706'745'600'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Runner> runner_;
};

// Conformance: every case runs on SQLite and on PostgreSQL.
INSTANTIATE_TEST_SUITE_P(Backends, AnalyticsTest, nbaprops::testing::BackendValues(), nbaprops::testing::BackendName);

TEST_P(AnalyticsTest, SummariesForADate) {
  auto res = Backfill(*runner_, "2024-01-30", "2024-01-31", 3, nullptr);
  for (const auto& d : res) EXPECT_TRUE(d.ok()) << d.date;
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM analytics_player_game_summary"), 5);
  // Jokić: 8 FGM, 0 3PM, 4 FTM -> 16 two-point + 4 free-throw points; TS = 20 / (2 * (15 + 1.76)).
  EXPECT_EQ(Text("SELECT two_pt_points || '/' || ft_points FROM analytics_player_game_summary WHERE "
                 "player_id = '203999'"),
            "16/4");
  EXPECT_NEAR(std::stod(Text("SELECT true_shooting FROM analytics_player_game_summary WHERE player_id = '203999'")),
              0.597, 0.0005);
  EXPECT_EQ(Text("SELECT points || '/' || box_score_points || '/' || box_score_complete FROM "
                 "analytics_team_offense_game_summary WHERE game_id = '0022300640' AND team = 'DEN'"),
            "24/24/1");
  EXPECT_EQ(Text("SELECT points_allowed FROM analytics_team_defense_game_summary WHERE game_id = '0022300640' AND "
                 "team = 'ATL'"),
            "24");
  EXPECT_EQ(Text("SELECT days_rest || '/' || back_to_back FROM analytics_upcoming_team_game_context WHERE "
                 "game_date = '2024-01-31' AND team = 'DEN'"),
            "1/1");
}

TEST_P(AnalyticsTest, UpcomingContextUsesOnlyWhatWasKnownBeforeTipoff) {
  Backfill(*runner_, "2024-01-30", "2024-01-31", 3, nullptr);
  // Jokić did not play on 01-31 but is expected (recent games), listed out before tip-off, with a line.
  EXPECT_EQ(Text("SELECT injury_status || '/' || line_count || '/' || roster_reason FROM "
                 "analytics_upcoming_player_game_context WHERE game_date = '2024-01-31' AND player_id = '203999'"),
            "out/1/injury_report,line,recent_games");
  // Murray: the post-tip-off line, the post-game injury note and last night's line are all ignored.
  EXPECT_EQ(Text("SELECT COALESCE(injury_status, 'none') || '/' || line_count FROM "
                 "analytics_upcoming_player_game_context WHERE game_date = '2024-01-31' AND player_id = '1627750'"),
            "none/0");
}

TEST_P(AnalyticsTest, RerunningADateIsIdempotent) {
  Backfill(*runner_, "2024-01-30", "2024-01-31", 3, nullptr);
  auto fingerprint = [&] {
    std::string out;
    EXPECT_TRUE(store_->WithRead([&](store::Transaction& t) {
                      return t.Query("SELECT game_id, player_id, points, usage_rate FROM analytics_player_game_summary "
                                     "ORDER BY game_id, player_id",
                                     {}, [&](const store::Row& r) {
                                       out += r.Text(0) + r.Text(1) + std::to_string(r.Double(2)) +
                                              (r.IsNull(3) ? "" : std::to_string(r.Double(3))) + ";";
                                       return OkStatus();
                                     });
                    }).ok());
    return out + Text("SELECT COUNT(*) FROM analytics_upcoming_player_game_context");
  };
  std::string before = fingerprint();
  EXPECT_TRUE(RunDate(*runner_, "2024-01-31", 3, "manual").ok());
  EXPECT_EQ(fingerprint(), before);
}

TEST_P(AnalyticsTest, AGameDayWithoutBoxScoresIsIncompleteNotSuccess) {
  ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) {
                return t.Exec("DELETE FROM raw_box_scores WHERE game_date = '2024-01-31' AND team = 'OKC'").status();
              }).ok());
  DateRunResult r = RunDate(*runner_, "2024-01-31", 3, "manual");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.outcomes[0].second.category, engine::FailureCategory::kUpstreamIncomplete);
  EXPECT_NE(r.outcomes[0].second.status.message().find("0022300653 OKC"), std::string::npos)
      << r.outcomes[0].second.status.message();
  // Its downstream was not run on partial data.
  EXPECT_EQ(r.outcomes[1].second.category, engine::FailureCategory::kUpstreamIncomplete);
}

}  // namespace
}  // namespace nbaprops::pipeline
