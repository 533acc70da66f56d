// The bundled real 2023-24 season through phases 1-3, and a cross-check against an independent
// box-score source when ../shared/data is present.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "base/csv.h"
#include "base/file.h"
#include "base/time.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "pipeline/player_names.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

class SeasonTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    store_ = OpenTestStore(dir_->File("season.db")).release();
    runner_ = MakeRunner(*store_, SystemClock::Default(), Config{}).value().release();
    Ingestor ing(*runner_);
    for (const auto& r : ing.ImportPaths({std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24"}, std::nullopt)) {
      ASSERT_TRUE(r.status.ok()) << r.path << ": " << r.status.ToString();
    }
    auto dates = GameDates(*store_).value();
    for (const auto& d : Backfill(*runner_, dates.front(), dates.back(), 3, nullptr)) {
      for (const auto& [name, o] : d.outcomes) ASSERT_TRUE(o.status.ok()) << d.date << " " << name << ": " << o.status.ToString();
    }
  }
  static void TearDownTestSuite() {
    delete runner_;
    delete store_;
    delete dir_;
  }
  static TempDir* dir_;
  static store::Store* store_;
  static engine::Runner* runner_;
};
TempDir* SeasonTest::dir_ = nullptr;
store::Store* SeasonTest::store_ = nullptr;
engine::Runner* SeasonTest::runner_ = nullptr;

TEST_F(SeasonTest, WholeSeasonIsStoredAndSummarized) {
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule"), 1230);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT game_id) FROM analytics_player_game_summary"), 1230);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM analytics_team_offense_game_summary"), 2460);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM analytics_team_defense_game_summary"), 2460);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores WHERE source = 'nba_com'"), 433);
  // Phase 3 ran for every date; its triggers queued phase 4 (run elsewhere), nothing failed.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status NOT IN ('succeeded', 'queued')"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND phase != 4"), 0);
}

TEST_F(SeasonTest, EveryBoxScoreNameResolvesAndAtLeast99PercentOfLineNames) {
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores WHERE player_id IS NULL"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM analytics_player_game_summary"),
            Count(*store_, "SELECT COUNT(*) FROM raw_box_scores"));
  double names = Count(*store_, "SELECT COUNT(DISTINCT name_key) FROM raw_player_props");
  double resolved = Count(*store_, "SELECT COUNT(DISTINCT name_key) FROM raw_player_props WHERE player_id IS NOT NULL");
  EXPECT_GE(resolved / names, 0.99) << resolved << " of " << names;
  // The rest wait in the backlog, never as new players.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM unresolved_player_names WHERE source = 'rotowire' AND "
                           "status = 'pending' AND occurrences > 0"),
            names - resolved);
  // Injury reports name players who never played (e.g. Jaylen Clark, out all season) or use
  // nicknames (Lu Dort): they wait in the backlog instead of becoming new players.
  EXPECT_GT(Count(*store_, "SELECT COUNT(*) FROM unresolved_player_names WHERE source != 'rotowire' AND "
                           "original_name = 'Jaylen Clark'"),
            0);
  // RotoWire drops suffixes: "Jabari Smith" is Jabari Smith Jr.
  EXPECT_GT(Count(*store_, "SELECT COUNT(*) FROM raw_player_props p JOIN reference_players r USING (player_id) WHERE "
                           "p.player_name = 'Jabari Smith' AND r.canonical_name = 'Jabari Smith Jr.'"),
            0);
  // Traded players keep one id (OG Anunoby TOR -> NYK).
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT player_id) FROM analytics_player_game_summary WHERE player_name "
                           "LIKE 'OG Anunoby'"),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT team) FROM analytics_player_game_summary WHERE player_name "
                           "LIKE 'OG Anunoby'"),
            2);
}

TEST_F(SeasonTest, JokicScratchOn20240131IsVisibleBeforeTipoff) {
  // Real case: 26.5 at four books, did not play at OKC.
  EXPECT_EQ(Count(*store_, "SELECT line_count FROM analytics_upcoming_player_game_context WHERE game_date = "
                           "'2024-01-31' AND player_name = 'Nikola Jokic'"),
            4);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM analytics_player_game_summary WHERE game_date = '2024-01-31' AND "
                           "player_name = 'Nikola Jokic'"),
            0);
}

TEST_F(SeasonTest, NoContextRowUsesALineCapturedAfterTipoff) {
  // Every line in the context carries its capture time; all must be before the game's tip-off.
  int64_t late = 0, checked = 0;
  ASSERT_TRUE(store_->WithRead([&](store::Transaction& t) {
                return t.Query("SELECT tipoff_utc, lines FROM analytics_upcoming_player_game_context WHERE "
                               "tipoff_utc IS NOT NULL AND line_count > 0",
                               {}, [&](const store::Row& r) {
                                 std::string lines = r.Text(1);
                                 for (size_t p = lines.find("captured_at"); p != std::string::npos;
                                      p = lines.find("captured_at", p + 1)) {
                                   auto ts = ParseIsoTimestamp(lines.substr(p + 14, 20));
                                   ++checked;
                                   if (!ts || *ts >= r.Int(0)) ++late;
                                 }
                                 return OkStatus();
                               });
              }).ok());
  EXPECT_GT(checked, 10000);
  EXPECT_EQ(late, 0);
}

// Two independent 2023-24 sources must agree on points for matched player-games.
TEST(SeasonCrossCheck, PointsAgreeWithIndependentBoxScores) {
  if (!nbaprops::testing::HaveSharedData()) GTEST_SKIP() << "../shared/data not present; cross-check skipped";
  auto ours = ReadFile(std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24/box_scores.csv");
  auto theirs = ReadFile(nbaprops::testing::SharedData() +
                         "/Ebube45__NBA-BoxScores-2023-Season/nba_player_boxscores_2023-2024.csv");
  ASSERT_TRUE(ours.ok() && theirs.ok());
  std::map<std::string, int> points;  // date|team|name key -> points (nba_api rows only)
  CsvReader a(*ours);
  CsvRecord rec;
  a.Next(&rec);
  CsvHeader ha(rec.fields);
  while (a.Next(&rec)) {
    if (rec.fields[ha.Index("source")] != "nba_api") continue;
    points[rec.fields[ha.Index("game_date")] + "|" + rec.fields[ha.Index("team")] + "|" +
           MakeNameKeys(rec.fields[ha.Index("player_name")]).no_suffix] = std::stoi(rec.fields[ha.Index("points")]);
  }
  CsvReader b(*theirs);
  b.Next(&rec);
  CsvHeader hb(rec.fields);
  int matched = 0, agree = 0;
  while (b.Next(&rec)) {
    const std::string& mdy = rec.fields[hb.Index("date")];
    std::string date = mdy.substr(6, 4) + "-" + mdy.substr(0, 2) + "-" + mdy.substr(3, 2);
    auto it = points.find(date + "|" + rec.fields[hb.Index("team")] + "|" + MakeNameKeys(rec.fields[0]).no_suffix);
    if (it == points.end()) continue;
    ++matched;
    agree += it->second == std::stoi(rec.fields[hb.Index("points")]);
  }
  EXPECT_GT(matched, 24000);
  EXPECT_GE(static_cast<double>(agree) / matched, 0.995) << agree << " of " << matched;
}

}  // namespace
}  // namespace nbaprops::pipeline
