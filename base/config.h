// Configuration: one TOML file plus NBAPROPS_* environment overrides, validated at start.
// Unknown keys are rejected so a typo never silently falls back to a default.
#ifndef NBAPROPS_BASE_CONFIG_H_
#define NBAPROPS_BASE_CONFIG_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace nbaprops {

// One alert channel: [[alerts.channels]]. The URL and the HMAC key are secrets, read from the
// environment variable or 0600 file the config names; the config file itself holds no secret.
struct AlertChannelConfig {
  std::string name;                      // name: [a-z0-9_-], unique; shown instead of the URL
  std::string kind;                      // kind: slack | webhook | log
  std::string min_severity = "warning";  // min_severity: info | warning | critical
  std::string url;                       // url_env or url_file (slack, webhook). A secret: never logged.
  std::string secret;                    // secret_env or secret_file (webhook: HMAC-SHA256 key). A secret.
  std::string path;                      // path (log): JSON lines appended here
  double rate_per_s = 1;                 // rate_per_s: token bucket refill (0 = unlimited; log default 0)
  int burst = 20;                        // burst: token bucket size
};

struct AlertsConfig {
  std::vector<AlertChannelConfig> channels;  // [[alerts.channels]]; none = alerts off
  int group_window_s = 30;                   // group_window_s: incidents this close share a message (0 = never)
  int repeat_after_s = 4 * 3600;             // repeat_after_s: remind of a still-open incident (0 = never)
  int broken_after_s = 3600;                 // broken_after_s: a channel failing this long is broken
};

// One HTTP data source: [sources.balldontlie], [sources.odds_api] or [sources.espn]. The API key
// is a secret, read from the environment variable or 0600 file the config names (api_key_env /
// api_key_file), or else from NBAPROPS_BALLDONTLIE_API_KEY / NBAPROPS_ODDS_API_KEY; it is never logged or stored.
struct HttpSourceConfig {
  std::string name;                 // balldontlie | odds_api | espn
  std::string mode = "file";        // mode: file (recorded responses via import / the inbox) | http | off
  std::string base_url;             // base_url: scheme://host[:port], no trailing slash (tests: a local server)
  std::string api_key;              // api_key_env / api_key_file / ApiKeyEnvVar(name). A secret.
  double requests_per_minute = 60;  // requests_per_minute: the source's rate limit (0 = unlimited)
  int burst = 1;                    // burst: requests allowed back to back
  int64_t connect_timeout_ms = 5'000;  // connect_timeout_ms
  int64_t timeout_ms = 30'000;      // timeout_ms: the whole request
  int max_attempts = 3;             // max_attempts: per request within one run (5xx, 429, timeouts)
  int64_t backoff_ms = 1'000;       // backoff_ms: first wait before a retry (doubles, capped at 30 s)
  int max_retry_after_s = 120;      // max_retry_after_s: a longer Retry-After ends the run (retried later)
  int per_page = 100;               // per_page (balldontlie): page size of cursor pagination
  int quota_reserve = 10;           // quota_reserve (odds_api): stop when x-requests-remaining <= this
  bool http() const { return mode == "http"; }
};

struct SourcesConfig {
  HttpSourceConfig balldontlie{"balldontlie", "file", "https://api.balldontlie.io", "", 5};  // free tier: 5/min
  HttpSourceConfig odds_api{"odds_api", "file", "https://api.the-odds-api.com", "", 30};
  HttpSourceConfig espn{"espn", "file", "https://site.api.espn.com", "", 30};
  std::vector<const HttpSourceConfig*> all() const { return {&balldontlie, &odds_api, &espn}; }
};

struct Config {
  std::string db_path = "nbaprops.db";  // [database] path       / NBAPROPS_DB
  std::string log_level = "warn";       // [log] level           / NBAPROPS_LOG_LEVEL
  std::string data_dir = "data/2023-24";  // [demo] data_dir     / NBAPROPS_DATA_DIR
  std::string inbox;                    // [sources] inbox / NBAPROPS_INBOX: imported on the scrape schedule
  SourcesConfig sources;                // [sources.balldontlie], [sources.odds_api], [sources.espn]
  int upcoming_roster_games = 10;       // [pipeline] roster_lookback_games
  int injury_max_age_hours = 36;        // [pipeline] injury_max_age_hours
  double minutes_alert_below = 0.90;    // [pipeline] minutes_alert_below: box-score minutes / 240 per team
  double minutes_block_below = 0.80;    // [pipeline] minutes_block_below (0 = never block)
  // [engine]
  int64_t lease_ms = 30'000;            // lease_ms / NBAPROPS_LEASE_MS
  int64_t heartbeat_ms = 5'000;         // heartbeat_ms / NBAPROPS_HEARTBEAT_MS
  int max_attempts = 5;                 // max_attempts
  int64_t retry_base_ms = 2'000;        // retry_base_ms
  int64_t retry_cap_ms = 300'000;       // retry_cap_ms
  int defer_max_hours = 36;             // defer_max_hours: dead-letter a partition deferred this long
  int reconcile_every_s = 60;           // reconcile_every_s: self-heal cycle in `serve` (0 = off)
  int reconcile_lookback_days = 3;      // reconcile_lookback_days: dates before today the reconciler checks
  int max_heals_per_cycle = 10;         // max_heals_per_cycle
  int breaker_failures = 5;             // breaker_failures: consecutive source failures that open a breaker
  int breaker_cooldown_s = 60;          // breaker_cooldown_s: first wait before a half-open probe (doubles)
  int workers = 2;                      // workers (serve / worker default)
  // [predictions]
  std::vector<std::string> sportsbooks = {"draftkings", "fanduel", "betmgm", "pointsbet", "caesars"};  // chain
  std::string line_policy = "opening";  // line_policy: opening | latest (pre-tip snapshot used for picks)
  double min_edge = 1.5;                // min_edge: |predicted - line| in points for OVER/UNDER
  double min_probability = 0.55;        // min_probability: probability of the chosen side
  double min_market_edge = 0.03;        // min_market_edge: market system, P(side) minus the vig-free market's
  bool wait_for_quality = true;         // wait_for_quality: defer predictions below the quality gates
  double quality_gate_first = 0.85;     // quality_gate_first: share of lined players production-ready
  double quality_gate_final = 0.70;     // quality_gate_final: accepted within 2 h of the first tip
  std::string model_path;               // model_path / NBAPROPS_MODEL: the xgboost model file
  std::string export_dir = "exports";   // [export] dir / NBAPROPS_EXPORT_DIR: JSON documents (phase 6)
  // [http]
  std::string http_listen = "127.0.0.1:8080";  // listen / NBAPROPS_HTTP_LISTEN: `serve --http` default
  // Bearer token for mutating endpoints: NBAPROPS_HTTP_TOKEN, or [http] token_file (mode 0600).
  // Empty: mutating endpoints answer 401. A secret: never logged.
  std::string http_token;
  AlertsConfig alerts;                  // [alerts]
};

// The environment variable read for a source's API key when the config names none:
// NBAPROPS_BALLDONTLIE_API_KEY, NBAPROPS_ODDS_API_KEY.
std::string ApiKeyEnvVar(const std::string& source);

// Reads a secret from a file that only its owner may read (no group or other permission bits),
// trimming a trailing newline. The error names the file and the chmod that fixes it.
StatusOr<std::string> ReadSecretFile(const std::string& path);

// Reads `path` (empty: defaults only), then applies environment overrides.
StatusOr<Config> LoadConfig(const std::string& path);

// LoadConfig for TOML text already in memory; `path` only names it in messages. Secrets the text
// names (url_file, token_file, ..._env) are still read from the files and environment. Never
// throws: every problem is kInvalidArgument.
StatusOr<Config> ParseConfig(std::string_view toml_text, const std::string& path);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_CONFIG_H_
