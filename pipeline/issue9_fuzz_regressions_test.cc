// Issue 9: what the fuzz targets (fuzz/README.md) found, as specific-error tests. The inputs that
// crashed a target are also replayed as they were by the fuzz_replay.* tests.
#include <gtest/gtest.h>

#include <string>

#include "base/config.h"
#include "pipeline/api_formats.h"
#include "pipeline/formats.h"

namespace nbaprops::pipeline {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// csv_import_fuzz: float-cast-overflow in Fields::Int.
TEST(Issue9FuzzRegressions, AHugeWholeNumberInAnIntegerColumnIsAReject) {
  const std::string csv =
      "game_id,game_date,team,player_name,minutes,points,fgm\n"
      "g1,2024-01-31,BOS,Jayson Tatum,36,6.66667e+22,10\n"
      "g1,2024-01-31,BOS,Jaylen Brown,36,4294967318,10\n"
      "g1,2024-01-31,BOS,Derrick White,30,12.0,\n";
  auto p = ParsePayload(ImportKind::kBoxScores, csv, "box.csv", 0);
  ASSERT_TRUE(p.ok()) << p.status().message();
  ASSERT_EQ(p->box_scores.size(), 1u);  // "12.0" is still a whole number
  EXPECT_EQ(p->box_scores[0].points, 12);
  ASSERT_EQ(p->rejects.size(), 2u);
  EXPECT_EQ(p->rejects[0].location, "box.csv:2");
  EXPECT_TRUE(Contains(p->rejects[0].reason, "points '6.66667e+22' is not a whole number in range"))
      << p->rejects[0].reason;
  EXPECT_TRUE(Contains(p->rejects[1].reason, "points '4294967318' is out of range")) << p->rejects[1].reason;
}

// Found while writing rotowire_fuzz: a price was truncated to int, an infinite line accepted.
TEST(Issue9FuzzRegressions, RotowireCellsWithAnImpossiblePriceOrLineAreMalformed) {
  const std::string csv =
      "PlayerName,opp,Prop,Over_Under,draftkings,fanduel\n"
      "Aaron Gordon,@MIA,Points,Over,(13.5) 4294967186,(inf) -110\n"
      "Aaron Gordon,@MIA,Points,Under,(13.5) -105,(inf) -110\n";
  auto p = ParsePayload(ImportKind::kRotowireProps, csv, "20240313T140934Z_bf9719dc46.csv", 0);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->props.empty());
  ASSERT_EQ(p->rejects.size(), 2u);
  EXPECT_TRUE(Contains(p->rejects[0].reason, "unreadable odds cell for draftkings")) << p->rejects[0].reason;
  EXPECT_TRUE(Contains(p->rejects[1].reason, "unreadable odds cell for fanduel")) << p->rejects[1].reason;
}

// balldontlie_fuzz: nlohmann's out_of_range escaped ParseDocument.
TEST(Issue9FuzzRegressions, ANumberBeyondDoubleRangeIsInvalidJsonNotAnException) {
  auto page = ParseBalldontlieStats(R"({"data": [{"id": 1426E311}], "meta": {}})", "stats.json");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(page.status().message(), "stats.json: unreadable JSON: number overflow parsing '1426E311'"))
      << page.status().message();
  auto odds = ParseOddsApiEventOdds(R"({"bookmakers": [], "commence_time": 1e999})", "odds.json", 0);
  ASSERT_FALSE(odds.ok());
  EXPECT_EQ(odds.status().code(), StatusCode::kInvalidArgument);
}

// config_fuzz: float-cast-overflow inside toml++ for a whole-number setting written as a float.
TEST(Issue9FuzzRegressions, AWholeNumberSettingWrittenAsAHugeFloatIsAnError) {
  auto c = ParseConfig("[alerts]\ngroup_window_s = 39223372036854775807600.80\n", "c.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(c.status().message(), "alerts.group_window_s must be a whole number")) << c.status().message();
  EXPECT_FALSE(ParseConfig("[engine]\nworkers = 2.5\n", "c.toml").ok());
  auto whole = ParseConfig("[engine]\nlease_ms = 40000.0\nworkers = 3\n", "c.toml");
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  EXPECT_EQ(whole->lease_ms, 40000);
  EXPECT_EQ(whole->workers, 3);
}

// Found while writing config_fuzz's invariants.
TEST(Issue9FuzzRegressions, NanSettingsAndAnOverflowingHeartbeatAreRejected) {
  auto nan = ParseConfig("[predictions]\nmin_probability = nan\n", "c.toml");
  ASSERT_FALSE(nan.ok());
  EXPECT_TRUE(Contains(nan.status().message(), "predictions.min_probability must be a finite number"))
      << nan.status().message();
  auto rate = ParseConfig("[[alerts.channels]]\nname = \"f\"\nkind = \"log\"\npath = \"/tmp/x\"\nrate_per_s = nan\n",
                          "c.toml");
  EXPECT_FALSE(rate.ok());
  auto hb = ParseConfig("[engine]\nheartbeat_ms = 9223372036854775807\n", "c.toml");
  ASSERT_FALSE(hb.ok());
  EXPECT_TRUE(Contains(hb.status().message(), "at least twice engine.heartbeat_ms")) << hb.status().message();
}

}  // namespace
}  // namespace nbaprops::pipeline
