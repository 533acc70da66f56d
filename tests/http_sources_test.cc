// The HTTP adapters (pipeline/http_sources.h) end to end: real libcurl on loopback against the
// replay server (tests/http_replay_server.h), a real SQLite file, a fake clock for every wait.
#include "pipeline/http_sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>

#include "base/clock.h"
#include "base/config.h"
#include "base/http_fetch.h"
#include "base/time.h"
#include "engine/breaker.h"
#include "engine/incidents.h"
#include "engine/scheduler.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "tests/http_replay_server.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using ::testing::AllOf;
using testing::Count;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReplayServer;
using testing::ReplaySwitches;
using testing::TempDir;

constexpr char kDate[] = "2024-03-01";
constexpr const char* kBdlKey = testing::kTestBdlKey;
constexpr const char* kOddsKey = testing::kTestOddsKey;

class HttpSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start());
    ReplaySwitches sw;
    sw.bdl_key = kBdlKey;
    sw.odds_key = kOddsKey;
    server_.Set(sw);
    store_ = testing::OpenTestStore(dir_.File("http.db"));
    config_ = testing::SmallFixtureConfig();
    for (HttpSourceConfig* s : {&config_.sources.balldontlie, &config_.sources.odds_api, &config_.sources.espn}) {
      s->mode = "http";
      s->base_url = server_.base_url();
      s->requests_per_minute = 600;  // 1 every 100 ms (fake time)
      s->timeout_ms = 2'000;
      s->connect_timeout_ms = 1'000;
      s->backoff_ms = 1'000;
    }
    config_.sources.balldontlie.api_key = kBdlKey;
    config_.sources.balldontlie.per_page = 25;
    config_.sources.odds_api.api_key = kOddsKey;
  }

  // (Re)builds the runner from config_, so a test can change the config first.
  engine::Runner& Runner() {
    if (!runner_) {
      auto r = pipeline::MakeRunner(*store_, clock_, config_, pipeline::HttpSourceDeps{&http_, &sleeper_});
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      runner_ = std::move(r).value();
    }
    return *runner_;
  }

  engine::RunOutcome Scrape(const std::string& processor, const std::string& date = kDate) {
    engine::Processor* p = Runner().Find(processor);
    EXPECT_NE(p, nullptr) << processor;
    return Runner().Execute(*p, date, date, "manual");
  }

  std::string RunStatus(int64_t run_id) {
    std::string s;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto v,
                                       t.QueryText("SELECT status FROM processor_runs WHERE run_id = ?", {run_id}));
                      s = v.value_or("");
                      return OkStatus();
                    })
                    .ok());
    return s;
  }

  int64_t Queued(const std::string& processor) {
    return Count(*store_,
                 "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND processor = '" + processor + "'");
  }

  TempDir dir_;
  ReplayServer server_{testing::HttpFixtureDir()};
  std::unique_ptr<store::Store> store_;
  Config config_;
  FakeClock clock_{*ParseIsoTimestamp("2024-03-02T15:00:00Z") * 1000};
  FakeClockSleeper sleeper_{clock_};
  CurlHttpClient http_;
  std::unique_ptr<engine::Runner> runner_;
};

// ---------------------------------------------------------------------------------------------
// ESPN

TEST_F(HttpSourcesTest, EspnScoreboardLandsTheDaysGamesWithStatusAndScore) {
  engine::RunOutcome o = Scrape(pipeline::kScrapeEspn);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule WHERE game_date = '2024-03-01' AND status = 'final'"), 9);
  // Scores are strings in the API; stored as numbers. Real result: Cleveland won 110-100 at Detroit.
  EXPECT_EQ(Count(*store_, "SELECT home_points * 1000 + away_points FROM raw_schedule WHERE home_team = 'DET'"),
            100110);
  // ESPN's "GS" is GSW, "SA" would be SAS, "WSH" is WAS.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule WHERE away_team IN ('GSW', 'WAS')"), 2);
  EXPECT_EQ(Count(*store_, "SELECT expected * 100 + fetched FROM source_scrapes WHERE source = 'espn'"), 909);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM http_fetches WHERE source = 'espn' AND http_status = 200 AND "
                  "url LIKE '%/scoreboard?dates=20240301' AND payload_id IS NOT NULL"),
            1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM raw_payloads WHERE source = 'espn' AND kind = 'espn_scoreboard' AND "
                  "http_status = 200 AND url IS NOT NULL AND duration_ms >= 0"),
            1);
}

TEST_F(HttpSourcesTest, AnUnchangedScoreboardIsNotReprocessed) {
  ASSERT_TRUE(Scrape(pipeline::kScrapeEspn).status.ok());
  server_.ClearRequests();
  engine::RunOutcome o = Scrape(pipeline::kScrapeEspn);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  // The second request carried the ETag and got 304; nothing was stored or parsed again.
  auto reqs = server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_FALSE(reqs[0].headers["If-None-Match"].empty());
  EXPECT_EQ(reqs[0].status, 304);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_payloads WHERE source = 'espn'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'parse_payload'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE not_modified = 1 AND unchanged = 1"), 1);
  EXPECT_EQ(Count(*store_, "SELECT fetched FROM source_scrapes WHERE run_id = " + std::to_string(o.run_id)), 9);

  // Without ETags, the same bytes are recognized by their hash: stored once, parsed once.
  ReplaySwitches sw = server_.switches();
  sw.etags = false;
  server_.Set(sw);
  ASSERT_TRUE(Scrape(pipeline::kScrapeEspn).status.ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_payloads WHERE source = 'espn'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'parse_payload'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE not_modified = 0 AND unchanged = 1"), 1);
}

TEST_F(HttpSourcesTest, EspnJoinsTheStoredScheduleInsteadOfDuplicatingIt) {
  // The bundled NBA schedule of the date first; ESPN then updates the same nine games.
  TempDir files;
  std::string csv =
      "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points,original_game_date,source\n"
      "0022300857,2024-03-01,2024-03-02T00:00:00Z,DET,CLE,scheduled,,,,nba_api\n";
  pipeline::Ingestor ingestor(Runner());
  ASSERT_TRUE(ingestor.ImportFile(files.Write("schedule.csv", csv), std::nullopt).status.ok());
  ASSERT_TRUE(Scrape(pipeline::kScrapeEspn).status.ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule WHERE game_date = '2024-03-01'"), 9);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM raw_schedule WHERE game_id = '0022300857' AND status = 'final' AND "
                  "home_points = 100"),
            1);
}

TEST_F(HttpSourcesTest, EspnRenamedScoreIsSchemaMismatchNamingTheFieldAndDeadLettered) {
  ReplaySwitches sw = server_.switches();
  sw.rename_from = "score";
  sw.rename_to = "points";
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeEspn);
  EXPECT_EQ(o.category, engine::FailureCategory::kSchemaMismatch);
  EXPECT_THAT(o.status.message(), AllOf(HasSubstr("competitions[0].competitors[].score"), HasSubstr("'points'")));
  EXPECT_EQ(RunStatus(o.run_id), "dead");
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters"), 1);
  // Nothing half-parsed was landed; the body is kept verbatim with the fetch for diagnosis.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE body IS NOT NULL AND payload_id IS NULL"), 1);
}

// ---------------------------------------------------------------------------------------------
// balldontlie

TEST_F(HttpSourcesTest, BalldontlieFollowsCursorsAndSendsTheKeyInAuthorization) {
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  // 9 games on one page; 207 stat rows at 25 per page = 9 pages, each after the cursor of the last.
  EXPECT_EQ(server_.CountRequests("/v1/games"), 1);
  EXPECT_EQ(server_.CountRequests("/v1/stats"), 9);
  int with_cursor = 0;
  for (const auto& r : server_.requests()) {
    EXPECT_EQ(r.headers.at("Authorization"), kBdlKey);
    with_cursor += r.query.find("cursor=") != std::string::npos;
  }
  EXPECT_EQ(with_cursor, 8);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores WHERE source = 'balldontlie'"), 207);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT game_id) FROM raw_box_scores"), 9);
  EXPECT_EQ(Count(*store_, "SELECT expected * 100 + fetched FROM source_scrapes WHERE source = 'balldontlie'"), 909);
  // The rate limiter spaced the 10 requests (600/min, burst 1) on the fake clock: 9 waits of ~100 ms.
  int64_t limited = 0;
  for (int64_t w : sleeper_.waits()) limited += w;
  EXPECT_GE(limited, 800);
  EXPECT_LE(limited, 1000);
}

TEST_F(HttpSourcesTest, Regression_OneOfNineExpectedGamesIsAnIncompleteRunNotASuccess) {
  // The system we replace collected 1 of 9 expected files and called it a day. Here the source
  // answers with box scores for the first game only.
  ReplaySwitches sw = server_.switches();
  sw.only_first_game = true;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  ASSERT_FALSE(o.status.ok());
  EXPECT_EQ(o.category, engine::FailureCategory::kIncompleteOutput);
  EXPECT_THAT(o.status.message(),
              AllOf(HasSubstr("fetched 1 of 9 expected"), HasSubstr("missing: game "), HasSubstr("MIL at CHI"),
                    HasSubstr("final, but no box-score rows"), Not(HasSubstr("CLE at DET"))));
  EXPECT_EQ(RunStatus(o.run_id), "failed");
  EXPECT_EQ(Queued(pipeline::kScrapeBalldontlie), 1);  // retried with backoff, not forgotten
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM source_scrapes WHERE complete = 0 AND expected = 9 AND fetched = 1"),
            1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE processor = 'scrape_balldontlie' AND "
                  "status = 'succeeded'"),
            0);
}

TEST_F(HttpSourcesTest, EmptyStatsPagesAreAShortfall) {
  ReplaySwitches sw = server_.switches();
  sw.empty_pages = true;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  EXPECT_EQ(o.category, engine::FailureCategory::kIncompleteOutput);
  EXPECT_THAT(o.status.message(), HasSubstr("fetched 0 of 9 expected"));
}

TEST_F(HttpSourcesTest, A429IsRetriedAfterItsRetryAfter) {
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/stats";
  sw.fail_429 = 2;
  sw.retry_after_s = 7;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  std::vector<int64_t> waits = sleeper_.waits();
  EXPECT_EQ(std::count(waits.begin(), waits.end(), 7'000), 2);  // Retry-After 7 s beats the 1 s / 2 s backoff
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE http_status = 429 AND body LIKE '%Too many%'"), 2);
}

TEST_F(HttpSourcesTest, A429ThatPersistsIsRateLimitedAndRetriedLater) {
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/games";
  sw.fail_429 = -1;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  EXPECT_EQ(o.category, engine::FailureCategory::kRateLimited);
  EXPECT_THAT(o.status.message(), HasSubstr("HTTP 429"));
  EXPECT_EQ(server_.CountRequests("/v1/games"), 3);  // max_attempts
  EXPECT_EQ(Queued(pipeline::kScrapeBalldontlie), 1);
  // A Retry-After longer than this run waits ends it at once.
  sw.retry_after_s = 3600;
  server_.Set(sw);
  server_.ClearRequests();
  o = Runner().Execute(*Runner().Find(pipeline::kScrapeBalldontlie), kDate, kDate, "manual");
  EXPECT_THAT(o.status.message(), HasSubstr("Retry-After 3600 s"));
  EXPECT_EQ(server_.CountRequests("/v1/games"), 1);
}

TEST_F(HttpSourcesTest, ServerErrorsAreRetriedWithBackoffThenSourceUnavailable) {
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/games";
  sw.fail_500 = 1;
  server_.Set(sw);
  ASSERT_TRUE(Scrape(pipeline::kScrapeBalldontlie).status.ok());
  sw.fail_500 = -1;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie, "2024-03-02");
  EXPECT_EQ(o.category, engine::FailureCategory::kSourceUnavailable);
  EXPECT_THAT(o.status.message(), AllOf(HasSubstr("HTTP 500 after 3 attempts"), Not(HasSubstr(kBdlKey))));
  // Exponential backoff between attempts (1 s, then 2 s), on the fake clock.
  std::vector<int64_t> waits = sleeper_.waits();
  EXPECT_EQ(std::count(waits.begin(), waits.end(), 2'000), 1);
}

TEST_F(HttpSourcesTest, AWrongKeyIsAConfigErrorAndNotRetried) {
  config_.sources.balldontlie.api_key = "wrong-key";
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  EXPECT_EQ(o.category, engine::FailureCategory::kConfigError);
  EXPECT_THAT(o.status.message(),
              AllOf(HasSubstr("HTTP 401"), HasSubstr("API key was refused"), Not(HasSubstr("wrong-key"))));
  EXPECT_EQ(server_.CountRequests("/v1/games"), 1);
  EXPECT_EQ(RunStatus(o.run_id), "dead");
}

TEST_F(HttpSourcesTest, ASlowAnswerTimesOutAndIsRetried) {
  config_.sources.balldontlie.timeout_ms = 300;
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/games";
  sw.slow = 1;
  sw.slow_ms = 1'500;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM http_fetches WHERE http_status = 0 AND error LIKE '%timed out%' AND "
                  "duration_ms >= 250"),
            1);
  // Always slow: the run fails as a timeout (retried by the engine).
  sw.slow = -1;
  sw.slow_ms = 600;
  server_.Set(sw);
  o = Scrape(pipeline::kScrapeBalldontlie, "2024-03-02");
  EXPECT_EQ(o.category, engine::FailureCategory::kTimeout);
  EXPECT_EQ(Queued(pipeline::kScrapeBalldontlie), 1);
}

TEST_F(HttpSourcesTest, ATruncatedBodyIsRetriedAndKeptVerbatim) {
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/stats";
  sw.truncate = 1;
  server_.Set(sw);
  ASSERT_TRUE(Scrape(pipeline::kScrapeBalldontlie).status.ok());
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM http_fetches WHERE http_status = 200 AND payload_id IS NULL AND "
                  "body IS NOT NULL AND error LIKE '%truncated%'"),
            1);
  // Truncated every time: source_unavailable after the attempts; nothing unparseable is landed.
  const int64_t before = Count(*store_, "SELECT COUNT(*) FROM raw_payloads");
  sw.fault_path = "/v1/games";
  sw.truncate = -1;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  EXPECT_EQ(o.category, engine::FailureCategory::kSourceUnavailable);
  EXPECT_THAT(o.status.message(), HasSubstr("not complete JSON"));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_payloads"), before);
}

TEST_F(HttpSourcesTest, BalldontlieRenamedFieldIsSchemaMismatchNamingTheFieldAndDeadLettered) {
  ReplaySwitches sw = server_.switches();
  sw.fault_path = "/v1/stats";
  sw.rename_from = "pts";
  sw.rename_to = "points";
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeBalldontlie);
  EXPECT_EQ(o.category, engine::FailureCategory::kSchemaMismatch);
  EXPECT_THAT(o.status.message(), AllOf(HasSubstr("field 'pts' missing in all 25 records"), HasSubstr("'points'")));
  EXPECT_EQ(RunStatus(o.run_id), "dead");
  EXPECT_EQ(server_.CountRequests("/v1/stats"), 1);  // a changed shape is not retried
  std::string dlq;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(
                        auto v, t.QueryText("SELECT error_category FROM processor_runs WHERE run_id = ?", {o.run_id}));
                    dlq = v.value_or("");
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(dlq, "schema_mismatch");
}

// ---------------------------------------------------------------------------------------------
// The Odds API

TEST_F(HttpSourcesTest, OddsApiFetchesEveryEventAndKeepsTheQuota) {
  engine::RunOutcome o = Scrape(pipeline::kScrapeOddsApi);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(server_.CountRequests("/v4/sports/basketball_nba/events"), 10);  // the list + 9 events
  EXPECT_GT(Count(*store_, "SELECT COUNT(*) FROM raw_player_props WHERE game_date = '2024-03-01'"), 200);
  EXPECT_EQ(Count(*store_, "SELECT expected * 100 + fetched FROM source_scrapes WHERE source = 'odds_api'"), 909);
  EXPECT_EQ(Count(*store_, "SELECT quota_remaining FROM http_fetches ORDER BY fetch_id DESC LIMIT 1"), 491);
  // The key travels as apiKey but is stored redacted.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE url LIKE '%apiKey=REDACTED%'"), 10);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_payloads WHERE url LIKE '%apiKey=REDACTED%'"), 10);
  auto sources = pipeline::ListSources(*store_, config_);
  ASSERT_TRUE(sources.ok());
  bool seen = false;
  for (const auto& s : *sources) {
    if (s.name != "odds_api") continue;
    seen = true;
    EXPECT_EQ(s.mode, "http");
    EXPECT_EQ(s.quota_remaining, 491);
    EXPECT_EQ(s.quota_used, 9);
    EXPECT_EQ(s.breaker, "closed");
    EXPECT_EQ(s.last_scrape, "2024-03-01: 9/9");
  }
  EXPECT_TRUE(seen);
}

TEST_F(HttpSourcesTest, QuotaExhaustionStopsBeforeZeroAndRaisesAnIncident) {
  ReplaySwitches sw = server_.switches();
  sw.odds_quota = 14;
  server_.Set(sw);
  config_.sources.odds_api.quota_reserve = 10;
  engine::RunOutcome o = Scrape(pipeline::kScrapeOddsApi);
  EXPECT_EQ(o.category, engine::FailureCategory::kRateLimited);
  EXPECT_THAT(o.status.message(),
              AllOf(HasSubstr("10 requests left, at or below the reserve of 10"), HasSubstr("fetched 4 of 9 events"),
                    HasSubstr("not requested, quota"), Not(HasSubstr(kOddsKey))));
  EXPECT_EQ(server_.odds_remaining(), 10);  // stopped at the reserve, never at 0
  std::optional<engine::Incident> incident;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(incident, engine::GetOpenIncident(t, pipeline::QuotaIncidentKey("odds_api")));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(incident->severity, "critical");
  // The next run only makes the free events call, which reports the quota, and asks for no odds.
  server_.ClearRequests();
  o = Scrape(pipeline::kScrapeOddsApi);
  EXPECT_EQ(o.category, engine::FailureCategory::kRateLimited);
  ASSERT_EQ(server_.requests().size(), 1u);
  EXPECT_EQ(server_.requests()[0].path, "/v4/sports/basketball_nba/events");
  EXPECT_EQ(server_.odds_remaining(), 10);
  // The quota resets (a new month, a bigger plan): the next run completes and resolves the incident.
  sw.odds_quota = 500;
  server_.Set(sw);
  o = Scrape(pipeline::kScrapeOddsApi);
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(incident, engine::GetOpenIncident(t, pipeline::QuotaIncidentKey("odds_api")));
                    return OkStatus();
                  })
                  .ok());
  EXPECT_FALSE(incident.has_value());
}

TEST_F(HttpSourcesTest, AQuotaSpentElsewhereIsAQuotaStopNotAConfigError) {
  // Another client used the key up: the API answers 401 OUT_OF_USAGE_CREDITS.
  ReplaySwitches sw = server_.switches();
  sw.odds_quota = 0;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeOddsApi);
  EXPECT_EQ(o.category, engine::FailureCategory::kRateLimited);
  EXPECT_THAT(o.status.message(), HasSubstr("OUT_OF_USAGE_CREDITS"));
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM incidents WHERE incident_key = 'source_quota:odds_api' AND "
                  "status = 'open'"),
            1);
}

TEST_F(HttpSourcesTest, OddsForOneOfNineEventsIsAnIncompleteRun) {
  ReplaySwitches sw = server_.switches();
  sw.only_first_event = true;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(pipeline::kScrapeOddsApi);
  EXPECT_EQ(o.category, engine::FailureCategory::kIncompleteOutput);
  EXPECT_THAT(o.status.message(), AllOf(HasSubstr("fetched 1 of 9 expected"), HasSubstr("HTTP 404")));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM source_scrapes WHERE complete = 0 AND fetched = 1"), 1);
}

// ---------------------------------------------------------------------------------------------
// The same faults against every adapter

struct AdapterCase {
  const char* processor;
  const char* fault_path;   // the requests the faults hit
  const char* rename_from;  // a field the adapter reads ...
  const char* rename_to;    // ... renamed upstream
  const char* message;      // what the schema_mismatch message must name
};

// Names the case in test listings (ctest shows GetParam()).
void PrintTo(const AdapterCase& c, std::ostream* os) { *os << c.processor; }

class EveryAdapterTest : public HttpSourcesTest, public ::testing::WithParamInterface<AdapterCase> {};

TEST_P(EveryAdapterTest, A429IsRetriedAfterRetryAfter) {
  const AdapterCase& c = GetParam();
  ReplaySwitches sw = server_.switches();
  sw.fault_path = c.fault_path;
  sw.fail_429 = 1;
  sw.retry_after_s = 3;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(c.processor);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  std::vector<int64_t> waits = sleeper_.waits();
  EXPECT_EQ(std::count(waits.begin(), waits.end(), 3'000), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM http_fetches WHERE http_status = 429"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM source_scrapes WHERE complete = 1 AND fetched = 9 AND expected = 9"),
            1);
}

TEST_P(EveryAdapterTest, ATruncatedBodyIsRetried) {
  const AdapterCase& c = GetParam();
  ReplaySwitches sw = server_.switches();
  sw.fault_path = c.fault_path;
  sw.truncate = 1;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(c.processor);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM http_fetches WHERE http_status = 200 AND payload_id IS NULL AND "
                  "body IS NOT NULL"),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM source_scrapes WHERE complete = 1 AND fetched = 9"), 1);
}

TEST_P(EveryAdapterTest, ARenamedFieldIsSchemaMismatchNamingItAndDeadLettered) {
  const AdapterCase& c = GetParam();
  ReplaySwitches sw = server_.switches();
  sw.fault_path = c.fault_path;
  sw.rename_from = c.rename_from;
  sw.rename_to = c.rename_to;
  server_.Set(sw);
  engine::RunOutcome o = Scrape(c.processor);
  EXPECT_EQ(o.category, engine::FailureCategory::kSchemaMismatch);
  EXPECT_THAT(o.status.message(), AllOf(HasSubstr(c.message), HasSubstr(std::string("'") + c.rename_to + "'")));
  EXPECT_EQ(RunStatus(o.run_id), "dead");
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters"), 1);
  EXPECT_EQ(Queued(c.processor), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, EveryAdapterTest,
    ::testing::Values(AdapterCase{pipeline::kScrapeEspn, "/apis/site", "homeAway", "side",
                                  "'competitions[0].competitors[].homeAway'"},
                      AdapterCase{pipeline::kScrapeBalldontlie, "/v1/stats", "turnover", "tov", "field 'turnover'"},
                      AdapterCase{pipeline::kScrapeOddsApi, "/v4/sports/basketball_nba/events", "commence_time",
                                  "start_time", "field 'commence_time' missing in all 9 events"}),
    [](const ::testing::TestParamInfo<AdapterCase>& info) { return std::string(info.param.processor); });

// The schedule `serve` runs: at 07 ET (12 UTC) the scoreboard and odds of today and the
// scoreboard and box scores of yesterday are queued, and workers fetch them.
TEST_F(HttpSourcesTest, TheScrapeScheduleQueuesEverySourceAndWorkersFetchThem) {
  engine::Scheduler scheduler(*store_, clock_);
  ASSERT_TRUE(pipeline::RegisterSchedules(scheduler, Runner()).ok());
  clock_.SetMillis(*ParseIsoTimestamp("2024-03-02T16:00:01Z") * 1000);
  auto tick = scheduler.Tick();
  ASSERT_TRUE(tick.ok()) << tick.status().ToString();
  EXPECT_THAT(tick->fired, ::testing::Contains("scrape_http"));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND processor LIKE 'scrape_%'"),
            4);
  auto drained = Runner().DrainQueue();
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  for (const auto& o : *drained) EXPECT_TRUE(o.status.ok()) << o.processor << ": " << o.status.ToString();
  // Yesterday (2024-03-01, Eastern) is complete: 9 games, 207 box-score rows; today has no fixture games.
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM source_scrapes WHERE partition_key = '2024-03-01' AND complete = 1 AND "
                  "fetched = 9"),
            2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM source_scrapes WHERE partition_key = '2024-03-02' AND complete = 1"),
            2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores"), 207);
}

}  // namespace
}  // namespace nbaprops
