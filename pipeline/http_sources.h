// Phase 1 over HTTP: scrapers for balldontlie v1, The Odds API v4 and the ESPN scoreboard, one
// processor per source, partitioned by game date ("2024-03-01").
//
//   scrape_espn_scoreboard  GET /apis/site/v2/sports/basketball/nba/scoreboard?dates=YYYYMMDD
//                           -> raw_schedule (status and score of each game)
//   scrape_balldontlie      GET /v1/games?dates[]=D (cursor pages), then /v1/stats?dates[]=D (cursor
//                           pages) -> raw_box_scores; header `Authorization: <key>`
//   scrape_odds_api         GET /v4/sports/basketball_nba/events (the date's events), then per event
//                           /events/{id}/odds?regions=us&markets=player_points&oddsFormat=american
//                           -> raw_player_props; `apiKey` query parameter
//
// Every response (each attempt, errors included) is a row of http_fetches with the URL redacted
// (no key), the HTTP status, timing and quota headers; a usable 2xx body is landed verbatim in
// raw_payloads (pipeline/ingest.h) and parsed by phase 2 unless the same bytes were parsed before,
// and a 304 answer to If-None-Match is not reprocessed at all. Other bodies (errors, a renamed field,
// a truncated download) are kept verbatim in http_fetches.body for diagnosis.
//
// Expected vs fetched: each scrape knows what it should get (the final games of the date for box
// scores, the events of the date for props, the stored schedule for the scoreboard) and records
// expected, fetched and what is missing in source_scrapes. A shortfall fails the run with
// incomplete_output (retried with backoff, then dead-lettered) and a message listing what is missing;
// it is never a success.
//
// Failure categories (engine/failure_policy.h): no answer, 5xx and a body that stays truncated ->
// source_unavailable; timeouts -> timeout; 429 after the in-run retries -> rate_limited (all three
// count against the source's circuit breaker); 401/403 -> config_error; other 4xx -> bad_input; a
// renamed or missing field -> schema_mismatch (dead letter, naming the field).
//
// The Odds API quota: the x-requests-remaining of every answer is kept. The events call costs no
// quota and is always made (it reports what is left, so a quota spent last month does not stop the
// scraper for good); at or below quota_reserve no odds request is sent, the incident
// "source_quota:odds_api" (critical) is opened, and the run fails as rate_limited listing the events
// it did not fetch. A 401 OUT_OF_USAGE_CREDITS (the key spent elsewhere) is treated the same way.
// A later scrape that sees the quota above the reserve resolves the incident.
//
// API keys never appear in a log line, an error message, the ledger or the database.
#ifndef NBAPROPS_PIPELINE_HTTP_SOURCES_H_
#define NBAPROPS_PIPELINE_HTTP_SOURCES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/config.h"
#include "base/http_client.h"
#include "base/http_fetch.h"
#include "engine/runner.h"
#include "store/store.h"

namespace nbaprops::pipeline {

inline constexpr char kScrapeEspn[] = "scrape_espn_scoreboard";
inline constexpr char kScrapeBalldontlie[] = "scrape_balldontlie";
inline constexpr char kScrapeOddsApi[] = "scrape_odds_api";

// "source_quota:<source>"
std::string QuotaIncidentKey(const std::string& source);

// The outside world of the scrapers; tests inject a FakeClockSleeper. Null members use libcurl
// and real sleeps. Both must outlive the runner.
struct HttpSourceDeps {
  HttpClient* http = nullptr;
  Sleeper* sleeper = nullptr;
};

// Registers the scraper of every source whose mode is "http".
Status RegisterHttpSources(engine::Runner& runner, const Config& config, const HttpSourceDeps& deps = {});

// The scraper processor names of the sources in mode "http", in dependency order (schedule first).
std::vector<std::string> HttpScraperNames(const Config& config);

// `nbaprops sources`: one row per source.
struct SourceStatus {
  std::string name;      // inbox | balldontlie | odds_api | espn
  std::string mode;      // file | http | off
  std::string location;  // base URL, or the inbox directory
  bool key_configured = false;
  std::optional<int64_t> last_fetch_ms;  // last HTTP request (http) or stored payload (file)
  std::optional<int> last_http_status;
  std::optional<int64_t> quota_remaining, quota_used;  // from x-requests-remaining / -used
  std::string breaker = "closed";                      // closed | open | half_open
  // The last scrape's accounting, "2024-03-01: 9/9" or "2024-03-01: 1/9 incomplete".
  std::string last_scrape;
};
StatusOr<std::vector<SourceStatus>> ListSources(store::Store& store, const Config& config);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_HTTP_SOURCES_H_
