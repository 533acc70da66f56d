#include "pipeline/played_games.h"

#include <gtest/gtest.h>

#include "base/time.h"
#include "pipeline/partition.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

// A store with box scores of one player per game and the ledger's runs for them.
class PlayedGamesCacheTest : public ::testing::Test {
 protected:
  void Exec(const std::string& sql) {
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) { return t.Exec(sql).status(); }).ok()) << sql;
  }
  // `player` scored `points` in the game of `date` (replacing the row): a succeeded run of it.
  void Game(const std::string& date, const std::string& player, int points) {
    Exec("INSERT OR IGNORE INTO raw_schedule (game_id, game_date, home_team, away_team, status, source, payload_id) "
         "VALUES ('g" + date + "', '" + date + "', 'DEN', 'OKC', 'final', 't', 1)");
    Exec("DELETE FROM analytics_player_game_summary WHERE game_date = '" + date + "' AND player_id = '" + player + "'");
    Exec("INSERT INTO analytics_player_game_summary (game_date, game_id, player_id, player_name, team, opponent, "
         "home, minutes, points, source) VALUES ('" + date + "', 'g" + date + "', '" + player + "', 'P', 'DEN', "
         "'OKC', 1, 30, " + std::to_string(points) + ", 't')");
    Exec("INSERT INTO processor_runs (run_id, processor, phase, partition_key, data_date, status, trigger, queued_at) "
         "VALUES (" + std::to_string(++run_) + ", 'player_game_summary', 3, '" + date + "', '" + date +
         "', 'succeeded', 'manual', 0)");
  }

  nbaprops::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_ = nbaprops::testing::OpenTestStore(dir_.File("g.db"));
  PlayedGamesCache cache_;
  int run_ = 0;
};

// The cache returns what a fresh read returns: a partition rewritten since it was kept (a new
// succeeded run in the ledger) is read again, an unchanged one is not.
TEST_F(PlayedGamesCacheTest, ReadsAgainOnlyWhatTheLedgerSaysWasRewritten) {
  Game("2023-11-01", "p1", 10);
  Game("2023-11-02", "p1", 20);
  const int32_t season = SeasonStart(*ParseIsoDate("2023-11-03")), day = *ParseIsoDate("2023-11-03");
  auto points = [&](int32_t before) {
    std::vector<double> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto g, cache_.Before(*store_, t, season, season, before, {"p1"}, "test"));
                      for (const PlayedGame& x : g.at(0)) out.push_back(x.points);
                      return OkStatus();
                    })
                    .ok());
    return out;
  };
  EXPECT_EQ(points(day), (std::vector<double>{10, 20}));
  EXPECT_EQ(cache_.partitions_read(), 2);
  EXPECT_EQ(points(day), (std::vector<double>{10, 20}));  // nothing new: nothing read
  EXPECT_EQ(points(day - 1), (std::vector<double>{10}));  // an earlier date: from what is kept
  EXPECT_EQ(cache_.partitions_read(), 2);
  Game("2023-11-01", "p1", 14);  // a correction rewrites the first date
  EXPECT_EQ(points(day), (std::vector<double>{14, 20}));
  EXPECT_EQ(cache_.partitions_read(), 4);
  Game("2023-11-03", "p1", 30);  // the next date: only it is read
  EXPECT_EQ(points(day + 1), (std::vector<double>{14, 20, 30}));
  EXPECT_EQ(cache_.partitions_read(), 5);

  // A final date whose box scores have not succeeded (its only run failed) is named, and nothing is
  // returned: the readers must not compute on an incomplete history.
  Exec("INSERT INTO raw_schedule (game_id, game_date, home_team, away_team, status, source, payload_id) VALUES "
       "('g5', '2023-11-05', 'DEN', 'OKC', 'final', 't', 1)");
  Exec("INSERT INTO processor_runs (run_id, processor, phase, partition_key, data_date, status, trigger, queued_at) "
       "VALUES (99, 'player_game_summary', 3, '2023-11-05', '2023-11-05', 'failed', 'manual', 0)");
  Status s = store_->WithRead([&](store::Transaction& t) -> Status {
    return cache_.Before(*store_, t, season, season, day + 3, {"p1"}, "player_daily_cache").status();
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "player_game_summary is not complete for earlier date(s) 2023-11-05 that player_daily_cache reads");
}

// AllBefore returns every key with a row in the season before the date, keys ascending, each
// sliced to [since, day); a key seen only on or after the date (kept from a later call) is left out.
TEST_F(PlayedGamesCacheTest, AllBeforeReturnsEveryKeyWithAGameBeforeTheDate) {
  Game("2023-11-01", "p2", 10);
  Game("2023-11-02", "p1", 20);
  Game("2023-11-03", "p3", 30);
  const int32_t season = SeasonStart(*ParseIsoDate("2023-11-01")), nov2 = *ParseIsoDate("2023-11-02");
  auto all = [&](int32_t since, int32_t before) {
    std::vector<std::pair<std::string, std::vector<double>>> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto m, cache_.AllBefore(*store_, t, season, since, before, "test"));
                      for (const auto& [key, g] : m) {
                        out.emplace_back(key, std::vector<double>{});
                        for (const PlayedGame& x : g) out.back().second.push_back(x.points);
                      }
                      return OkStatus();
                    })
                    .ok());
    return out;
  };
  using Keyed = std::vector<std::pair<std::string, std::vector<double>>>;
  EXPECT_EQ(all(season, nov2 + 2), (Keyed{{"p1", {20}}, {"p2", {10}}, {"p3", {30}}}));
  EXPECT_EQ(all(season, nov2), (Keyed{{"p2", {10}}}));             // p1 and p3 played later
  EXPECT_EQ(all(nov2, nov2 + 1), (Keyed{{"p1", {20}}, {"p2", {}}}));  // p2's game is before `since`
  EXPECT_EQ(cache_.partitions_read(), 3);
}

}  // namespace
}  // namespace nbaprops::pipeline
