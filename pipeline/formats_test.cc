#include "pipeline/formats.h"

#include <gtest/gtest.h>

#include "base/file.h"
#include "base/time.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

constexpr char kBoxHeader[] =
    "game_id,game_date,team,opponent,home_away,player_id,player_name,minutes,points,fgm,fga,fg3m,fg3a,ftm,fta,"
    "oreb,dreb,reb,ast,stl,blk,tov,pf,plus_minus,source\n";

TEST(FormatsTest, DetectsEveryKindFromItsHeader) {
  EXPECT_EQ(DetectKind(kBoxHeader).kind, ImportKind::kBoxScores);
  EXPECT_EQ(DetectKind("game_id,game_date,tipoff_utc,home_team,away_team,status\n").kind, ImportKind::kSchedule);
  EXPECT_EQ(DetectKind("captured_at_utc,game_date,player_name,sportsbook,line,over_price,under_price\n").kind,
            ImportKind::kPlayerProps);
  EXPECT_EQ(DetectKind("captured_at_utc,team,player_name,status\n").kind, ImportKind::kInjuries);
  EXPECT_EQ(DetectKind("game_date,home_team,away_team,sportsbook,total\n").kind, ImportKind::kGameLines);
  EXPECT_EQ(DetectKind("player_id,player_name,alt_names\n").kind, ImportKind::kPlayers);
  EXPECT_EQ(DetectKind("<<<<<<< HEAD\nPlayerName,opp,Prop,Over_Under,draftkings\n").kind, ImportKind::kRotowireProps);
  EXPECT_EQ(DetectKind("hello,world\n1,2\n").kind, ImportKind::kUnknown);
  EXPECT_TRUE(DetectKind("hello,world\n").problem.empty());
}

TEST(FormatsTest, AMissingColumnNamesTheFileAndColumn) {
  Detection d = DetectKind("game_id,game_date,team,player_name,minutes\n");
  EXPECT_EQ(d.kind, ImportKind::kUnknown);
  EXPECT_NE(d.problem.find("box_scores"), std::string::npos);
  EXPECT_NE(d.problem.find("points"), std::string::npos);
  auto p = ParsePayload(ImportKind::kBoxScores, "game_id,game_date,team,player_name,minutes\n1,2,3,4,5\n", "box.csv", 0);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("box.csv:1: missing required column points"), std::string::npos);
}

TEST(FormatsTest, BoxScoresValidateEachRowAndKeepTheGoodOnes) {
  std::string csv = std::string(kBoxHeader) +
                    "0022300653,2024-01-31,OKC,DEN,home,1628983,Shai Gilgeous-Alexander,36:47,24,8,16,2,4,6,7,0,5,5,"
                    "6,2,1,3,2,7,nba_api\n"
                    "0022300653,\"JAN 31, 2024\",OKC,DEN,home,1,X Y,30,10,,,,,,,,,,,,,,,,nba_api\n"
                    "0022300653,2024-01-31,XXX,DEN,home,2,A B,30,10,,,,,,,,,,,,,,,,nba_api\n"
                    "0022300653,2024-01-31,OKC,DEN,home,3,C D,30,10,4,8,0,0,1,2,,,,,,,,,,nba_api\n"
                    "0022300653,2024-01-31,OKC,DEN,home,4,E \xE9,20,2,,,,,,,,,,,,,,,,nba_api\n"
                    "0022300653,2024-01-31,OKC\n";
  auto p = ParsePayload(ImportKind::kBoxScores, csv, "box.csv", 0);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->box_scores.size(), 1u);
  EXPECT_NEAR(p->box_scores[0].minutes, 36.783, 0.001);
  ASSERT_EQ(p->rejects.size(), 5u);
  EXPECT_EQ(p->read(), 6);
  EXPECT_EQ(p->rejects[0].location, "box.csv:3");
  EXPECT_NE(p->rejects[0].reason.find("write it as 2024-01-31"), std::string::npos) << p->rejects[0].reason;
  EXPECT_NE(p->rejects[1].reason.find("'XXX' is not an NBA team"), std::string::npos);
  EXPECT_NE(p->rejects[2].reason.find("disagree with 2*fgm+fg3m+ftm"), std::string::npos);
  EXPECT_NE(p->rejects[3].reason.find("not valid UTF-8"), std::string::npos) << p->rejects[3].reason;
  EXPECT_EQ(p->rejects[3].location, "box.csv:6");
  EXPECT_NE(p->rejects[4].reason.find("expected 25 fields"), std::string::npos);
}

TEST(FormatsTest, OddsWithNoLineAreRejectedWithAReason) {
  std::string csv =
      "captured_at_utc,game_date,player_name,team,opponent,home_away,sportsbook,line,over_price,under_price,snapshot,"
      "source\n"
      "2024-01-31T15:00:00Z,2024-01-31,Nikola Jokic,,OKC,away,draftkings,26.5,-115,-105,open,rotowire\n"
      "2024-01-31T15:00:00Z,2024-01-31,Nikola Jokic,,OKC,away,fanduel,,-115,-105,open,rotowire\n"
      "2024-01-31T15:00:00Z,2024-01-31,Nikola Jokic,,OKC,away,betmgm,26.3,-115,-105,open,rotowire\n";
  auto p = ParsePayload(ImportKind::kPlayerProps, csv, "props.csv", 0);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->props.size(), 1u);
  EXPECT_EQ(p->props[0].opponent, "OKC");
  ASSERT_EQ(p->rejects.size(), 2u);
  EXPECT_EQ(p->rejects[0].location, "props.csv:3");
  EXPECT_NE(p->rejects[0].reason.find("odds with no line"), std::string::npos);
  EXPECT_NE(p->rejects[1].reason.find("multiple of 0.5"), std::string::npos);
}

// The real corrupted RotoWire snapshot: a git merge-conflict block around two versions.
TEST(FormatsTest, RealMergeConflictSnapshotRejectsOnlyTheMarkers) {
  if (!nbaprops::testing::HaveSharedData()) GTEST_SKIP() << "../shared/data not present";
  std::string path = nbaprops::testing::SharedData() +
                     "/DhirenShivdasani__NBA-player-prop-analysis/raw_history_samples/over_under_odds/"
                     "20240126T174858Z_2cc4293889.csv";
  auto content = ReadFile(path);
  ASSERT_TRUE(content.ok());
  Detection d = DetectKind(*content);
  ASSERT_EQ(d.kind, ImportKind::kRotowireProps);
  auto p = ParsePayload(d.kind, *content, "20240126T174858Z_2cc4293889.csv", 0);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  int markers = 0, headers = 0, no_line = 0;
  for (const auto& r : p->rejects) {
    markers += r.reason.find("merge-conflict marker") != std::string::npos;
    headers += r.reason.find("header line") != std::string::npos;
    no_line += r.reason.find("odds with no line") != std::string::npos;
  }
  EXPECT_EQ(markers, 3);  // <<<<<<<, =======, >>>>>>>
  EXPECT_GE(headers, 1);
  EXPECT_EQ(p->rejects.front().location, "20240126T174858Z_2cc4293889.csv:1");
  // This early format has prices without lines: each offered (player, book) is rejected for it.
  EXPECT_GT(no_line, 0);
  EXPECT_EQ(p->read(), static_cast<int64_t>(p->props.size() + p->rejects.size()));
  // Capture time comes from the file name.
  for (const auto& prop : p->props) EXPECT_EQ(FormatIsoTimestamp(prop.captured_at_utc), "2024-01-26T17:48:58Z");
}

TEST(FormatsTest, RotowireStandardFormatPairsOverAndUnder) {
  std::string csv =
      "PlayerName,opp,Prop,Over_Under,draftkings,fanduel,mgm,pointsbet\n"
      "Aaron Gordon,@MIA,Assists,Over,(2.5) -130,(2.5) -125,(2.5) -130,(2.5) -120\n"
      "Aaron Gordon,@MIA,Points,Over,(13.5) -125,(13.5) -122,-,(13.5) -125\n"
      "Aaron Gordon,@MIA,Points,Under,(13.5) -105,(13.5) -104,-,-110\n";
  auto p = ParsePayload(ImportKind::kRotowireProps, csv, "20240313T140934Z_bf9719dc46.csv", 0);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->props.size(), 3u);  // draftkings, fanduel, pointsbet (mgm not offered)
  EXPECT_EQ(p->props[0].sportsbook, "draftkings");
  EXPECT_EQ(p->props[0].line, 13.5);
  EXPECT_EQ(*p->props[0].over_price, -125);
  EXPECT_EQ(*p->props[0].under_price, -105);
  EXPECT_EQ(p->props[0].opponent, "MIA");
  EXPECT_EQ(p->props[0].home_away, "away");
  EXPECT_EQ(p->props[0].game_date, "2024-03-13");
  EXPECT_TRUE(p->rejects.empty());
}

TEST(FormatsTest, InjuryStatusesAreCanonical) {
  EXPECT_EQ(CanonicalInjuryStatus("Out for season", ""), "out");
  EXPECT_EQ(CanonicalInjuryStatus("", "Out (Knee) - The Hawks announced..."), "out");
  EXPECT_EQ(CanonicalInjuryStatus("", "Day To Day (Ankle) - ..."), "questionable");
  EXPECT_EQ(CanonicalInjuryStatus("Not on injury report", ""), "available");
  EXPECT_EQ(CanonicalInjuryStatus("GTD maybe", ""), "");
}

TEST(FormatsTest, MinutesFormats) {
  EXPECT_NEAR(*ParseMinutes("36:47"), 36.783, 0.001);
  EXPECT_EQ(*ParseMinutes("36"), 36);
  EXPECT_EQ(*ParseMinutes("36.5"), 36.5);
  EXPECT_FALSE(ParseMinutes("abc"));
  EXPECT_FALSE(ParseMinutes("36:75"));
}

}  // namespace
}  // namespace nbaprops::pipeline
