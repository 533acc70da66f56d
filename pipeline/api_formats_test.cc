#include "pipeline/api_formats.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "base/time.h"

namespace nbaprops::pipeline {
namespace {

using nlohmann::json;

// Fixtures are hand-made payloads in the shape of the real responses; see tests/fixtures/api/README.md.
std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(NBAPROPS_SOURCE_DIR) + "/tests/fixtures/api/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The scrapers' replay fixtures (tests/fixtures/http/README.md).
std::string HttpFixture(const std::string& name) {
  std::ifstream in(std::string(NBAPROPS_SOURCE_DIR) + "/tests/fixtures/http/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t Ts(const char* iso) { return ParseIsoTimestamp(iso).value(); }

const BoxScoreRecord* FindPlayer(const std::vector<BoxScoreRecord>& rows, const std::string& name) {
  for (const auto& r : rows) {
    if (r.player_name == name) return &r;
  }
  return nullptr;
}

const PropRecord* FindProp(const std::vector<PropRecord>& props, const std::string& book, const std::string& player) {
  for (const auto& p : props) {
    if (p.sportsbook == book && p.player_name == player) return &p;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// balldontlie

TEST(BalldontlieStatsTest, FirstPageMapsEveryRowAndKeepsTheCursor) {
  auto page = ParseBalldontlieStats(Fixture("balldontlie_stats_page1.json"), "stats_page1.json");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->next_cursor, 14260313);
  ASSERT_EQ(page->stats.records.size(), 4u);
  EXPECT_TRUE(page->stats.rejects.empty());
  EXPECT_EQ(page->stats.read(), 4);

  const BoxScoreRecord* lebron = FindPlayer(page->stats.records, "LeBron James");
  ASSERT_NE(lebron, nullptr);
  EXPECT_NEAR(lebron->minutes, 36.783, 0.001);  // "36:47"
  EXPECT_EQ(lebron->points, 25);
  EXPECT_EQ(lebron->game_id, "bdl:1037605");
  EXPECT_EQ(lebron->game_date, "2024-01-30");
  EXPECT_EQ(lebron->source_player_id, "bdl:237");
  EXPECT_EQ(lebron->team, "LAL");
  EXPECT_EQ(lebron->opponent, "ATL");  // ATL's abbreviation appears on Trae Young's row
  EXPECT_EQ(lebron->fgm, 10);
  EXPECT_EQ(lebron->fg3a, 6);
  EXPECT_EQ(lebron->reb, 8);
  EXPECT_EQ(lebron->ast, 11);
  EXPECT_EQ(lebron->tov, 4);  // from `turnover`
  EXPECT_EQ(lebron->pf, 1);
  EXPECT_EQ(lebron->source, "balldontlie");
  EXPECT_EQ(lebron->location, "stats_page1.json:$.data[0]");

  const BoxScoreRecord* trae = FindPlayer(page->stats.records, "Trae Young");
  ASSERT_NE(trae, nullptr);
  EXPECT_EQ(trae->team, "ATL");
  EXPECT_EQ(trae->opponent, "LAL");
  EXPECT_EQ(trae->points, 28);
}

TEST(BalldontlieStatsTest, LastPageHasNoCursorKeepsTheDateAsWrittenAndKeepsDnps) {
  auto page = ParseBalldontlieStats(Fixture("balldontlie_stats_page2.json"), "stats_page2.json");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_FALSE(page->next_cursor.has_value());
  ASSERT_EQ(page->stats.records.size(), 3u);
  for (const auto& r : page->stats.records) {
    // "2024-01-30T00:00:00.000Z" is the game's calendar day, not an instant to shift into ET.
    EXPECT_EQ(r.game_date, "2024-01-30");
    // Only Lakers rows on this page: nothing says what ATL's id stands for, so no guess.
    EXPECT_EQ(r.opponent, "");
  }
  const BoxScoreRecord* wood = FindPlayer(page->stats.records, "Christian Wood");
  ASSERT_NE(wood, nullptr);
  EXPECT_DOUBLE_EQ(wood->minutes, 12);  // "12"
  const BoxScoreRecord* dnp = FindPlayer(page->stats.records, "Jaxson Hayes");
  ASSERT_NE(dnp, nullptr);
  EXPECT_DOUBLE_EQ(dnp->minutes, 0);  // "00": did not play, still a valid row
  EXPECT_EQ(dnp->points, 0);
}

TEST(BalldontlieStatsTest, MinutesInEveryFormTheApiWrites) {
  json page = json::parse(Fixture("balldontlie_stats_page1.json"));
  const std::vector<std::pair<json, double>> cases = {
      {"36:47", 36 + 47 / 60.0}, {"36", 36}, {"", 0}, {"00", 0}, {nullptr, 0}, {"0:00", 0}, {36, 36}};
  for (const auto& [min, want] : cases) {
    page["data"][0]["min"] = min;
    if (want == 0) {  // a DNP carries no shots
      for (const char* k : {"fgm", "fga", "fg3m", "fg3a", "ftm", "fta"}) page["data"][0][k] = 0;
      page["data"][0]["pts"] = 0;
    }
    auto parsed = ParseBalldontlieStats(page.dump(), "p.json");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    ASSERT_EQ(parsed->stats.records.size(), 4u) << min.dump() << ": " << parsed->stats.rejects[0].reason;
    EXPECT_NEAR(parsed->stats.records[0].minutes, want, 1e-9) << min.dump();
  }
  // null points are accepted only for a player who did not play.
  page["data"][0]["min"] = nullptr;
  page["data"][0]["pts"] = nullptr;
  auto dnp = ParseBalldontlieStats(page.dump(), "p.json");
  ASSERT_TRUE(dnp.ok());
  EXPECT_EQ(dnp->stats.records.size(), 4u);
  page["data"][0]["min"] = "30:00";
  auto played = ParseBalldontlieStats(page.dump(), "p.json");
  ASSERT_TRUE(played.ok());
  ASSERT_EQ(played->stats.rejects.size(), 1u);
  EXPECT_EQ(played->stats.rejects[0].location, "p.json:$.data[0].pts");
}

TEST(BalldontlieStatsTest, BadRowsAreRejectedAtTheirJsonPathAndTheRestKept) {
  auto page = ParseBalldontlieStats(Fixture("balldontlie_stats_bad.json"), "balldontlie_stats_bad.json");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->stats.records.size(), 2u);
  EXPECT_EQ(page->stats.records[0].player_name, "LeBron James");
  EXPECT_EQ(page->stats.records[1].player_name, "Dejounte Murray");
  ASSERT_EQ(page->stats.rejects.size(), 2u);
  EXPECT_EQ(page->stats.read(), 4);

  const Reject& min = page->stats.rejects[0];
  EXPECT_EQ(min.location, "balldontlie_stats_bad.json:$.data[1].min");
  EXPECT_TRUE(Contains(min.reason, "field 'min' is 'abc'")) << min.reason;
  EXPECT_TRUE(Contains(min.reason, "Anthony Davis")) << min.reason;
  EXPECT_TRUE(Contains(min.raw, "\"abc\"")) << min.raw;
  EXPECT_TRUE(json::accept(min.raw));  // the item itself, as JSON

  const Reject& pts = page->stats.rejects[1];
  EXPECT_EQ(pts.location, "balldontlie_stats_bad.json:$.data[2].pts");
  EXPECT_TRUE(Contains(pts.reason, "field 'pts' is missing")) << pts.reason;
  EXPECT_FALSE(Contains(pts.reason, "disagrees")) << pts.reason;                 // no second-hand complaints
  EXPECT_TRUE(Contains(pts.raw, R"({"id":14260305,"min":"35:20")")) << pts.raw;  // in the payload's order
}

TEST(BalldontlieStatsTest, RecordLevelProblemsNameTheField) {
  json page = json::parse(Fixture("balldontlie_stats_page1.json"));
  page["data"][0]["team"]["abbreviation"] = "XYZ";
  page["data"][1].erase("player");
  page["data"][2]["game"]["date"] = "Jan 30, 2024";
  page["data"][3]["player"]["first_name"] = std::string(5000, 'x');  // raw must still be capped
  page["data"][3]["pts"] = "21";
  auto parsed = ParseBalldontlieStats(page.dump(), "p.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(parsed->stats.records.empty());
  ASSERT_EQ(parsed->stats.rejects.size(), 4u);
  EXPECT_EQ(parsed->stats.rejects[0].location, "p.json:$.data[0].team.abbreviation");
  EXPECT_TRUE(Contains(parsed->stats.rejects[0].reason, "'XYZ' is not an NBA team"));
  EXPECT_EQ(parsed->stats.rejects[1].location, "p.json:$.data[1].player");
  EXPECT_TRUE(Contains(parsed->stats.rejects[1].reason, "field 'player' is missing"));
  EXPECT_EQ(parsed->stats.rejects[2].location, "p.json:$.data[2].game.date");
  EXPECT_TRUE(Contains(parsed->stats.rejects[2].reason, "'Jan 30, 2024'"));
  EXPECT_EQ(parsed->stats.rejects[3].location, "p.json:$.data[3].pts");
  EXPECT_TRUE(Contains(parsed->stats.rejects[3].reason, "expected a whole number"));
  EXPECT_LE(parsed->stats.rejects[3].raw.size(), 2048u + 3);  // 2 KiB plus the "..." marker
}

TEST(BalldontlieStatsTest, AFieldRenamedInEveryRowIsASchemaMismatch) {
  auto page = ParseBalldontlieStats(Fixture("balldontlie_stats_renamed.json"), "stats_renamed.json");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kDataLoss);
  const std::string& m = page.status().message();
  EXPECT_TRUE(Contains(m, "stats_renamed.json: field 'pts' missing in all 3 records")) << m;
  EXPECT_TRUE(Contains(m, "'points'")) << m;  // says what it was renamed to
}

TEST(BalldontlieStatsTest, TruncatedPayloadIsInvalidArgumentNamingTheFile) {
  auto page = ParseBalldontlieStats(Fixture("balldontlie_truncated.json"), "balldontlie_truncated.json");
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(page.status().message(), "balldontlie_truncated.json: not valid JSON (truncated?) at byte "))
      << page.status().message();
}

TEST(BalldontlieStatsTest, WrongTopLevelShapeIsASchemaMismatch) {
  auto missing = ParseBalldontlieStats(R"({"results": [], "meta": {"per_page": 25}})", "p.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(missing.status().message(), "p.json: field 'data' is missing (the response shape changed?)"))
      << missing.status().message();
  EXPECT_TRUE(Contains(missing.status().message(), "results"));

  auto not_array = ParseBalldontlieStats(R"({"data": {"id": 1}})", "p.json");
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(not_array.status().message(), "field 'data' is an object"));

  auto root_array = ParseBalldontlieStats("[]", "p.json");
  EXPECT_EQ(root_array.status().code(), StatusCode::kDataLoss);

  // An error body saved as if it were a page: the API's own words make the message.
  auto error_body = ParseBalldontlieStats(R"({"message": "Unauthorized"})", "p.json");
  EXPECT_EQ(error_body.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(error_body.status().message(), "Unauthorized"));

  auto bad_cursor = ParseBalldontlieStats(R"({"data": [], "meta": {"next_cursor": "abc"}})", "p.json");
  EXPECT_EQ(bad_cursor.status().code(), StatusCode::kDataLoss);

  auto empty = ParseBalldontlieStats(R"({"data": [], "meta": {"per_page": 25}})", "p.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->stats.read(), 0);
  EXPECT_FALSE(empty->next_cursor.has_value());
}

// ---------------------------------------------------------------------------------------------
// balldontlie /v1/games (what the scraper expects box scores for)

TEST(BdlGamesPageTest, ReadsEveryGameWithItsStatusAndMatchup) {
  auto page = ParseBdlGamesPage(HttpFixture("bdl_games_2024-03-01.json"), "games.json");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->games.size(), 9u);
  EXPECT_FALSE(page->next_cursor.has_value());
  EXPECT_EQ(page->games[0].id, 1037572);
  EXPECT_EQ(page->games[0].status, "Final");
  EXPECT_EQ(page->games[0].matchup, "CLE at DET");

  auto partial = ParseBdlGamesPage(
      R"({"data": [{"id": 7.0, "status": "3rd Qtr", "home_team": {"abbreviation": "SAS"}, "visitor_team": {}}, 5],
          "meta": {"next_cursor": 7}})",
      "g.json");
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  ASSERT_EQ(partial->games.size(), 1u);  // the 5 is not a game
  EXPECT_EQ(partial->games[0].id, 7);
  EXPECT_EQ(partial->games[0].matchup, "? at SAS");
  EXPECT_EQ(partial->next_cursor, 7);
}

TEST(BdlGamesPageTest, AGameWithoutAWholeIdOrARenamedFieldFailsThePage) {
  auto bad_id = ParseBdlGamesPage(R"({"data": [{"id": "x", "status": "Final"}]})", "g.json");
  EXPECT_EQ(bad_id.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(bad_id.status().message(), "g.json: a game's id is 'x', expected a whole number"))
      << bad_id.status().message();

  auto renamed = ParseBdlGamesPage(R"({"data": [{"id": 1, "state": "Final", "home_team": {}, "visitor_team": {}},
                                                {"id": 2, "state": "Final", "home_team": {}, "visitor_team": {}}]})",
                                   "g.json");
  EXPECT_EQ(renamed.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(renamed.status().message(),
                       "field 'status' missing in all 2 games; the first game has: 'id', 'state', 'home_team'"))
      << renamed.status().message();

  EXPECT_EQ(ParseBdlGamesPage("[]", "g.json").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseBdlGamesPage(R"({"data": [{"id": 1)", "g.json").status().code(), StatusCode::kInvalidArgument);
}

// Issue 9 (found writing balldontlie_games_fuzz's invariants, not by the fuzzer; kept in
// fuzz/regressions/balldontlie_games/): an empty abbreviation made the matchup " at DET", so a
// missing game read "game 1 ( at DET): final, but no box-score rows".
TEST(BdlGamesPageTest, Issue9_AnEmptyAbbreviationIsAnUnnamedSideOfTheMatchup) {
  auto page = ParseBdlGamesPage(R"({"data": [{"id": 1, "status": "Final", "visitor_team": {"abbreviation": ""},
                                              "home_team": {"abbreviation": " DET "}}]})",
                                "games.json");
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->games.size(), 1u);
  EXPECT_EQ(page->games[0].matchup, "? at DET");
}

// Both endpoints paginate alike, so an unreadable cursor reads the same from either.
TEST(BdlGamesPageTest, AnUnreadableCursorIsTheSameErrorOnGamesAndStatsPages) {
  const std::string doc = R"({"data": [], "meta": {"next_cursor": "abc"}})";
  auto games = ParseBdlGamesPage(doc, "p.json");
  auto stats = ParseBalldontlieStats(doc, "p.json");
  ASSERT_EQ(games.status().code(), StatusCode::kDataLoss);
  ASSERT_EQ(stats.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(games.status().message(), "p.json: meta.next_cursor 'abc' is not a whole number"))
      << games.status().message();
  EXPECT_EQ(games.status().message(), stats.status().message());

  auto last = ParseBdlGamesPage(R"({"data": [], "meta": {"next_cursor": null}})", "p.json");
  ASSERT_TRUE(last.ok());
  EXPECT_FALSE(last->next_cursor.has_value());
}

// ---------------------------------------------------------------------------------------------
// The Odds API

TEST(OddsApiEventOddsTest, PairsOverAndUnderPerBookPlayerAndLine) {
  const int64_t fetched_at = Ts("2024-01-30T23:00:00Z");
  auto odds = ParseOddsApiEventOdds(Fixture("odds_api_event_odds.json"), "odds.json", fetched_at);
  ASSERT_TRUE(odds.ok()) << odds.status().ToString();
  // draftkings 3, fanduel 3, betmgm 2 pairs; betmgm's Over with no point is the one reject.
  EXPECT_EQ(odds->records.size(), 8u);
  ASSERT_EQ(odds->rejects.size(), 1u);
  EXPECT_EQ(odds->read(), 9);

  const PropRecord* dk = FindProp(odds->records, "draftkings", "LeBron James");
  ASSERT_NE(dk, nullptr);
  EXPECT_DOUBLE_EQ(dk->line, 24.5);
  EXPECT_EQ(dk->over_price, -115);
  EXPECT_EQ(dk->under_price, -105);
  EXPECT_EQ(dk->market, "player_points");
  EXPECT_EQ(dk->captured_at_utc, Ts("2024-01-30T22:58:40Z"));  // the market's last_update
  EXPECT_EQ(dk->snapshot, "live");
  EXPECT_EQ(dk->source, "the_odds_api");
  EXPECT_EQ(dk->team, "");
  EXPECT_EQ(dk->opponent, "");
  EXPECT_EQ(dk->home_away, "");
  EXPECT_EQ(dk->location, "odds.json:$.bookmakers[0].markets[0].outcomes[0]");

  // fanduel's market has no last_update: the bookmaker's applies.
  const PropRecord* fd = FindProp(odds->records, "fanduel", "LeBron James");
  ASSERT_NE(fd, nullptr);
  EXPECT_EQ(fd->captured_at_utc, Ts("2024-01-30T22:59:03Z"));

  // One side offered: kept with that price.
  const PropRecord* murray = FindProp(odds->records, "fanduel", "Dejounte Murray");
  ASSERT_NE(murray, nullptr);
  EXPECT_EQ(murray->over_price, -110);
  EXPECT_FALSE(murray->under_price.has_value());
  const PropRecord* trae = FindProp(odds->records, "betmgm", "Trae Young");
  ASSERT_NE(trae, nullptr);
  EXPECT_DOUBLE_EQ(trae->line, 27.5);
  EXPECT_FALSE(trae->over_price.has_value());
  EXPECT_EQ(trae->under_price, -105);

  const Reject& no_line = odds->rejects[0];
  EXPECT_EQ(no_line.location, "odds.json:$.bookmakers[2].markets[1].outcomes[2].point");
  EXPECT_TRUE(Contains(no_line.reason, "no line")) << no_line.reason;
  EXPECT_TRUE(Contains(no_line.raw, "Trae Young"));

  for (const auto& p : odds->records) {
    EXPECT_EQ(p.market, "player_points");
    // player_rebounds (12.5, 7.5) and h2h are someone else's markets: neither records nor rejects.
    EXPECT_NE(p.line, 12.5);
    EXPECT_NE(p.line, 7.5);
  }
}

TEST(OddsApiEventOddsTest, GameDateIsTheEasternDayOfTipOff) {
  auto odds = ParseOddsApiEventOdds(Fixture("odds_api_event_odds.json"), "odds.json", 0);
  ASSERT_TRUE(odds.ok());
  // commence_time 2024-01-31T00:30:00Z is 7:30 pm ET on the 30th.
  for (const auto& p : odds->records) EXPECT_EQ(p.game_date, "2024-01-30");

  auto late = ParseOddsApiEventOdds(
      R"({"commence_time": "2024-03-11T02:00:00Z", "bookmakers": [{"key": "FanDuel", "markets": [
            {"key": "player_points", "outcomes": [
              {"name": "Over", "description": "Nikola Jokic", "price": -120, "point": 26.5}]}]}]})",
      "late.json", Ts("2024-03-10T20:00:00Z"));
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  ASSERT_EQ(late->records.size(), 1u);
  EXPECT_EQ(late->records[0].game_date, "2024-03-10");  // 10 pm EDT, the day DST began
  EXPECT_EQ(late->records[0].sportsbook, "fanduel");    // keys are stored lower case
  // No last_update at all: the fetch time is the best we know.
  EXPECT_EQ(late->records[0].captured_at_utc, Ts("2024-03-10T20:00:00Z"));
}

TEST(OddsApiEventOddsTest, UnusablePricesAndLinesAreRejectedWithAReason) {
  auto odds = ParseOddsApiEventOdds(
      R"({"commence_time": "2024-01-31T00:30:00Z", "bookmakers": [{"key": "draftkings",
            "last_update": "2024-01-30T22:00:00Z", "markets": [{"key": "player_points", "outcomes": [
              {"name": "Over", "description": "LeBron James", "price": 1.91, "point": 24.5},
              {"name": "Under", "description": "LeBron James", "price": 1.91, "point": 24.5},
              {"name": "Over", "description": "Anthony Davis", "price": -110, "point": 26.3},
              {"name": "Yes", "description": "Trae Young", "price": -110, "point": 0.5},
              {"name": "Over", "price": -110, "point": 20.5}]}]}]})",
      "o.json", 0);
  ASSERT_TRUE(odds.ok()) << odds.status().ToString();
  EXPECT_TRUE(odds->records.empty());
  ASSERT_EQ(odds->rejects.size(), 4u);
  EXPECT_EQ(odds->read(), 4);  // LeBron's pair is one record read, rejected once
  EXPECT_EQ(odds->rejects[0].location, "o.json:$.bookmakers[0].markets[0].outcomes[3].name");
  EXPECT_TRUE(Contains(odds->rejects[0].reason, "neither Over nor Under"));
  EXPECT_EQ(odds->rejects[1].location, "o.json:$.bookmakers[0].markets[0].outcomes[4].description");
  EXPECT_TRUE(Contains(odds->rejects[1].reason, "no player"));
  EXPECT_EQ(odds->rejects[2].location, "o.json:$.bookmakers[0].markets[0].outcomes[0]");
  EXPECT_TRUE(Contains(odds->rejects[2].reason, "not American odds")) << odds->rejects[2].reason;
  EXPECT_TRUE(Contains(odds->rejects[3].reason, "multiple of 0.5")) << odds->rejects[3].reason;
}

TEST(OddsApiEventOddsTest, PayloadLevelProblemsAreErrors) {
  std::string full = Fixture("odds_api_event_odds.json");
  auto truncated = ParseOddsApiEventOdds(full.substr(0, full.size() / 2), "odds_cut.json", 0);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(truncated.status().message(), "odds_cut.json: not valid JSON (truncated?)"));

  json doc = json::parse(full);
  json no_books = doc;
  no_books.erase("bookmakers");
  auto a = ParseOddsApiEventOdds(no_books.dump(), "o.json", 0);
  EXPECT_EQ(a.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(a.status().message(), "field 'bookmakers' is missing")) << a.status().message();

  json no_time = doc;
  no_time.erase("commence_time");
  auto b = ParseOddsApiEventOdds(no_time.dump(), "o.json", 0);
  EXPECT_EQ(b.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(b.status().message(), "field 'commence_time' is missing")) << b.status().message();

  json renamed = doc;
  for (auto& book : renamed["bookmakers"]) {
    for (auto& market : book["markets"]) {
      for (auto& o : market["outcomes"]) {
        if (o.contains("description")) {
          o["player"] = o["description"];
          o.erase("description");
        }
      }
    }
  }
  auto c = ParseOddsApiEventOdds(renamed.dump(), "o.json", 0);
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(c.status().message(), "field 'description' missing in all")) << c.status().message();

  auto list = ParseOddsApiEventOdds("[" + full + "]", "o.json", 0);
  EXPECT_EQ(list.status().code(), StatusCode::kDataLoss);
}

// ---------------------------------------------------------------------------------------------
// The Odds API events list (what the scraper requests odds for)

TEST(OddsEventsTest, ReadsEveryEventWithItsEasternGameDate) {
  auto events = ParseOddsEvents(HttpFixture("odds_events_2024-03-01.json"), "events.json");
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 9u);
  EXPECT_EQ((*events)[0].id, "602622c2a293495ff388d4a1a950ee87");
  EXPECT_EQ((*events)[0].matchup, "Cleveland Cavaliers at Detroit Pistons");
  for (const OddsEvent& e : *events) EXPECT_EQ(e.game_date, "2024-03-01") << e.id;  // 00:00Z March 2 = 7 pm ET

  // dateFormat=unix: Unix seconds; a missing team is "?".
  auto unix_times =
      ParseOddsEvents(R"([{"id": "e1", "commence_time": 1709337600, "home_team": "Boston Celtics"}])", "events.json");
  ASSERT_TRUE(unix_times.ok()) << unix_times.status().ToString();
  ASSERT_EQ(unix_times->size(), 1u);
  EXPECT_EQ((*unix_times)[0].game_date, "2024-03-01");
  EXPECT_EQ((*unix_times)[0].matchup, "? at Boston Celtics");
}

TEST(OddsEventsTest, AnEventWithoutAnIdOrATimeFailsTheList) {
  auto no_id = ParseOddsEvents(R"([{"id": "", "commence_time": "2024-03-02T00:00:00Z"}])", "ev.json");
  EXPECT_EQ(no_id.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(no_id.status().message(), "ev.json: an event's id is '', expected text"))
      << no_id.status().message();

  auto bad_time = ParseOddsEvents(R"([{"id": "e1", "commence_time": "tonight"}])", "ev.json");
  EXPECT_EQ(bad_time.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(bad_time.status().message(), "ev.json: event e1: commence_time 'tonight' is not a time"))
      << bad_time.status().message();

  auto object = ParseOddsEvents(R"({"message": "Invalid API key"})", "ev.json");
  EXPECT_EQ(object.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(object.status().message(), "the root is an object, expected an array of events"));
  EXPECT_TRUE(Contains(object.status().message(), "the API answered: Invalid API key"));

  EXPECT_EQ(ParseOddsEvents(R"([{"id": "e1")", "ev.json").status().code(), StatusCode::kInvalidArgument);
}

// Issue 9, odds_api_events_fuzz (fuzz/regressions/odds_api_events/commence_time_unix_year_2511_invalid_game_date.json):
// Unix seconds in the year 2511 gave the game_date "2511-09-01", which no date check downstream
// accepts. Event odds read commence_time the same way (fuzz/regressions/odds_api/).
TEST(OddsEventsTest, Issue9Fuzz_ACommenceTimeOutsideTheCalendarIsASchemaMismatch) {
  auto events =
      ParseOddsEvents(R"([{"id": "e1", "commence_time": 17093371600, "home_team": "Boston Celtics"}])", "events.json");
  ASSERT_EQ(events.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(events.status().message(),
                       "events.json: event e1: commence_time 17093371600 is a time whose Eastern date is outside "
                       "1900-01-01 to 2200-12-31"))
      << events.status().message();
  auto edge = ParseOddsEvents(R"([{"id": "e1", "commence_time": "1900-01-01T00:00:00Z"}])", "events.json");
  ASSERT_EQ(edge.status().code(), StatusCode::kDataLoss);  // 1899-12-31 in New York
  EXPECT_TRUE(Contains(edge.status().message(), "commence_time '1900-01-01T00:00:00Z' is a time whose Eastern date"))
      << edge.status().message();

  auto odds = ParseOddsApiEventOdds(R"({"commence_time": 17093371600, "bookmakers": []})", "odds.json", 0);
  ASSERT_EQ(odds.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(odds.status().message(),
                       "odds.json: field 'commence_time' is 17093371600, a time whose Eastern date is outside "
                       "1900-01-01 to 2200-12-31"))
      << odds.status().message();
  for (const char* far : {"8999999999999999", "-8999999999999999"}) {
    EXPECT_EQ(
        ParseOddsEvents(std::string(R"([{"id": "e1", "commence_time": )") + far + "}]", "events.json").status().code(),
        StatusCode::kDataLoss)
        << far;
  }
}

// ---------------------------------------------------------------------------------------------
// Detection

TEST(ApiFormatDetectionTest, RecognizesEachApiAndNothingElse) {
  for (const char* f : {"balldontlie_stats_page1.json", "balldontlie_stats_page2.json", "balldontlie_stats_bad.json",
                        "balldontlie_stats_renamed.json", "balldontlie_truncated.json"}) {
    std::string text = Fixture(f);
    EXPECT_TRUE(LooksLikeBalldontlieStats(text)) << f;
    EXPECT_FALSE(LooksLikeOddsApiEventOdds(text)) << f;
  }
  std::string odds = Fixture("odds_api_event_odds.json");
  EXPECT_TRUE(LooksLikeOddsApiEventOdds(odds));
  EXPECT_FALSE(LooksLikeBalldontlieStats(odds));
  // Cut off after the event header: still recognizably The Odds API.
  EXPECT_TRUE(LooksLikeOddsApiEventOdds(odds.substr(0, odds.find("\"markets\""))));

  EXPECT_TRUE(LooksLikeBalldontlieStats(R"({"data": [], "meta": {"per_page": 25}})"));  // an empty last page
  for (const char* other : {"", "{}", "[]", "game_id,game_date\n1,2\n", R"({"data": [{"a": 1, "b": 2}]})",
                            R"({"data": [], "links": {}})", R"({"bookmakers": []})", R"([{"bookmakers": []}])"}) {
    EXPECT_FALSE(LooksLikeBalldontlieStats(other)) << other;
    EXPECT_FALSE(LooksLikeOddsApiEventOdds(other)) << other;
  }
}

}  // namespace
}  // namespace nbaprops::pipeline
