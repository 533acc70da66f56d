#include "pipeline/http_sources.h"

#include <map>
#include <memory>
#include <set>
#include <utility>

#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "engine/breaker.h"
#include "engine/incidents.h"
#include "pipeline/api_formats.h"
#include "pipeline/espn_format.h"
#include "pipeline/ingest.h"

namespace nbaprops::pipeline {
namespace {

constexpr size_t kMaxPayloadBytes = size_t{64} << 20;
constexpr int kMaxPages = 200;  // a cursor that never ends is a bug upstream, not a reason to loop forever

// A parse failure of a 2xx body, as FetchWithRetry's body check: invalid JSON is usually a download
// cut short, so it is retried (kUnavailable); a changed shape (kDataLoss) ends the fetch.
Status AsBodyCheck(const Status& parse) {
  if (parse.code() == StatusCode::kInvalidArgument) {
    return UnavailableError(parse.message() + " (the body is not complete JSON: a truncated download?)");
  }
  return parse;
}

std::optional<int64_t> HeaderNumber(const HttpResponse& r, std::string_view name) {
  std::string v = r.Header(name);
  if (v.empty()) return std::nullopt;
  auto d = ParseDouble(Trim(v));
  if (!d || *d < 0 || *d > 1e15) return std::nullopt;
  return static_cast<int64_t>(*d);
}

// The outcome of one logical GET (after retries).
struct Fetched {
  Status status;
  bool rate_limited = false;
  int http_status = 0;
  bool not_modified = false;              // 304 to If-None-Match: the stored payload is current
  std::optional<int64_t> cached_payload;  // with not_modified: the payload stored earlier
  std::string body;
  std::string error_body;  // the last answer's body when it is an error (kept out of messages)
  std::string url;         // redacted
  int64_t duration_ms = 0;
  int64_t fetch_id = 0;  // http_fetches row of the last attempt
  std::optional<int64_t> quota_remaining, quota_used;
};

// Expected vs fetched for one scrape.
struct Accounting {
  int64_t expected = 0;
  int64_t fetched = 0;
  std::vector<std::string> missing;  // what was expected and not fetched, each with a reason
  int64_t requests = 0;
};

std::string MissingText(const std::vector<std::string>& missing) {
  std::string out;
  for (size_t i = 0; i < missing.size() && i < 20; ++i) out += (i ? "; " : "") + missing[i];
  if (missing.size() > 20) out += "; and " + std::to_string(missing.size() - 20) + " more";
  return out;
}

// Shared machinery of the three scrapers: requests, storage of every response, accounting.
class HttpScraper : public engine::Processor {
 public:
  HttpScraper(engine::Runner& runner, HttpSourceConfig config, const HttpSourceDeps& deps)
      : runner_(runner),
        config_(std::move(config)),
        http_(deps.http),
        sleeper_(deps.sleeper),
        limiter_(config_.requests_per_minute, config_.burst) {
    if (!http_) {
      owned_http_ = std::make_unique<CurlHttpClient>();
      http_ = owned_http_.get();
    }
    if (!sleeper_) sleeper_ = &RealSleeper::Default();
  }
  int phase() const override { return 1; }
  std::vector<std::string> sources() const override { return {config_.name}; }

  Status Run(engine::RunContext& ctx) override {
    const std::string& date = ctx.partition_key();
    if (!IsIsoDate(date)) {
      return InvalidArgumentError(name() + ": partition '" + date + "' is not a game date (YYYY-MM-DD)");
    }
    Accounting acc;
    Status s = Scrape(ctx, date, &acc);
    return Finish(ctx, s, acc);
  }

 protected:
  virtual Status Scrape(engine::RunContext& ctx, const std::string& date, Accounting* acc) = 0;
  // Extra request headers (balldontlie's Authorization).
  virtual std::vector<std::pair<std::string, std::string>> AuthHeaders() const { return {}; }
  // Query parameters that carry a secret and must be redacted.
  virtual std::vector<std::string> SecretParams() const { return {}; }

  const std::string& source() const { return config_.name; }

  // GETs base_url + path_query, storing every attempt; `what` names it in messages (no secret).
  Fetched Get(engine::RunContext& ctx, const std::string& path_query, const std::string& what,
              const std::function<Status(const HttpResponse&)>& check_body, Accounting* acc) {
    Fetched f;
    const std::string url = config_.base_url + path_query;
    f.url = Redact(RedactUrl(url, SecretParams()));
    HttpRequest req;
    req.method = "GET";
    req.url = url;
    req.headers = AuthHeaders();
    req.headers.emplace_back("Accept", "application/json");
    req.connect_timeout_ms = config_.connect_timeout_ms;
    req.total_timeout_ms = config_.timeout_ms;
    req.max_body_bytes = kMaxPayloadBytes;
    // If-None-Match: the ETag of the last 200 for this URL whose body is stored.
    std::optional<int64_t> etag_payload;
    (void)ctx.store().WithRead([&](store::Transaction& t) -> Status {
      return t.Query(
          "SELECT etag, payload_id FROM http_fetches WHERE url = ? AND http_status = 200 AND "
          "etag IS NOT NULL AND payload_id IS NOT NULL ORDER BY fetch_id DESC LIMIT 1",
          {f.url}, [&](const store::Row& r) {
            req.headers.emplace_back("If-None-Match", r.Text(0));
            etag_payload = r.Int(1);
            return OkStatus();
          });
    });
    RetryOptions retry;
    retry.max_attempts = config_.max_attempts;
    retry.backoff_base_ms = config_.backoff_ms;
    retry.max_retry_after_ms = int64_t{config_.max_retry_after_s} * 1000;
    FetchResult r = FetchWithRetry(*http_, req, what, retry, &limiter_, ctx.clock(), *sleeper_, check_body,
                                   [&](const FetchAttempt& a) {
                                     ++acc->requests;
                                     f.fetch_id = RecordAttempt(ctx, f.url, a);
                                   });
    const FetchAttempt& last = r.last();
    f.status = Status(r.status.code(), Redact(r.status.message()));
    // Only the redacted URL is ever logged.
    LogInfo(name() + ": GET " + f.url + " -> " +
            (last.response.answered() ? std::to_string(last.response.status) : std::string("no answer")) + " in " +
            std::to_string(last.duration_ms) + " ms, " + std::to_string(r.attempts.size()) + " attempt(s)" +
            (f.status.ok() ? "" : ": " + f.status.message()));
    f.rate_limited = r.rate_limited;
    f.http_status = last.response.status;
    f.duration_ms = last.duration_ms;
    f.quota_remaining = HeaderNumber(last.response, "x-requests-remaining");
    f.quota_used = HeaderNumber(last.response, "x-requests-used");
    if (f.status.ok() && last.response.status == 304) {
      f.not_modified = true;
      f.cached_payload = etag_payload;
      (void)ctx.store().WithWrite([&](store::Transaction& t) {
        return t
            .Exec("UPDATE http_fetches SET unchanged = 1, payload_id = ? WHERE fetch_id = ?",
                  {etag_payload, f.fetch_id})
            .status();
      });
    } else if (f.status.ok()) {
      f.body = last.response.body;
    } else {
      f.error_body = last.response.body;
    }
    return f;
  }

  // Lands a usable 2xx body (or notes a 304) and links it to its fetch row. Returns the payload
  // id; an error when storing or parsing failed.
  StatusOr<int64_t> Land(engine::RunContext& ctx, const Fetched& f, const std::string& kind,
                         std::optional<ImportKind> parse) {
    if (f.not_modified) {
      if (!f.cached_payload) return InternalError("304 without a stored payload");
      return *f.cached_payload;
    }
    Landing l;
    l.source = source();
    l.kind = kind;
    l.source_key = f.url;
    l.content = f.body;
    l.url = f.url;
    l.http_status = f.http_status;
    l.duration_ms = f.duration_ms;
    l.parse = parse;
    Ingestor ingestor(runner_);
    ImportResult res = ingestor.Land(std::move(l));
    (void)ctx.store().WithWrite([&](store::Transaction& t) {
      return t
          .Exec("UPDATE http_fetches SET payload_id = ?, unchanged = ? WHERE fetch_id = ?",
                {res.payload_id ? store::Param(res.payload_id) : store::Param(), res.fresh ? 0 : 1, f.fetch_id})
          .status();
    });
    if (!res.status.ok()) return Status(res.status.code(), Redact(res.status.message()));
    return res.payload_id;
  }

  // The failure of a fetch as the run's result, with the category the engine should see.
  Status FailWith(engine::RunContext& ctx, const Fetched& f) {
    if (f.rate_limited) ctx.category_override = engine::FailureCategory::kRateLimited;
    if (f.status.code() == StatusCode::kFailedPrecondition) {
      // 401/403: a wrong or missing key; waiting does not fix it (kFailedPrecondition would defer).
      ctx.category_override = engine::FailureCategory::kConfigError;
    }
    return f.status;
  }

  std::string Redact(std::string text) const { return RedactSecrets(std::move(text), {config_.api_key}); }

  StatusOr<std::string> StoredContent(engine::RunContext& ctx, int64_t payload_id) {
    std::string content;
    RETURN_IF_ERROR(ctx.store().WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto c, t.QueryText("SELECT content FROM raw_payloads WHERE payload_id = ?", {payload_id}));
      content = c.value_or("");
      return OkStatus();
    }));
    return content;
  }

  engine::Runner& runner_;
  HttpSourceConfig config_;

 private:
  int64_t RecordAttempt(engine::RunContext& ctx, const std::string& url, const FetchAttempt& a) {
    const HttpResponse& r = a.response;
    const bool usable = r.status >= 200 && r.status < 300 && a.body_check.ok() && !r.body_truncated;
    std::string error;
    if (!r.answered()) {
      error = r.transport_error + (r.timed_out ? " (timed out)" : "");
    } else if (!a.body_check.ok()) {
      error = a.body_check.message();
    }
    error = Redact(error);
    const std::string etag = r.Header("etag");
    int64_t id = 0;
    Status s = ctx.store().WithWrite([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("INSERT INTO http_fetches (source, run_id, url, attempt, http_status, started_at_ms, "
                             "duration_ms, waited_ms, size_bytes, content_hash, etag, not_modified, quota_remaining, "
                             "quota_used, error, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             {source(), ctx.run_id(), url, a.attempt, r.status, a.started_ms, a.duration_ms,
                              a.waited_ms, static_cast<int64_t>(r.body.size()),
                              r.body.empty() ? store::Param() : store::Param(Sha256Hex(r.body)),
                              etag.empty() ? store::Param() : store::Param(etag), r.status == 304 ? 1 : 0,
                              HeaderNumber(r, "x-requests-remaining"), HeaderNumber(r, "x-requests-used"),
                              error.empty() ? store::Param() : store::Param(error),
                              // A usable body is stored once, in raw_payloads; anything else is kept here.
                              usable || r.body.empty() ? store::Param() : store::Param(std::string_view(r.body))})
                          .status());
      ASSIGN_OR_RETURN(id, t.LastInsertId());
      return OkStatus();
    });
    if (!s.ok()) LogWarn(name() + ": recording a response failed: " + s.message());
    return id;
  }

  // Records the accounting and turns a shortfall into a failure; commits on success.
  Status Finish(engine::RunContext& ctx, Status s, const Accounting& acc) {
    const bool complete = s.ok() && acc.missing.empty() && acc.fetched >= acc.expected;
    auto record = [&](store::Transaction& t) -> Status {
      return t
          .Exec(
              "INSERT INTO source_scrapes (run_id, source, processor, partition_key, expected, fetched, complete, "
              "missing, requests, finished_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO "
              "UPDATE SET expected = excluded.expected, fetched = excluded.fetched, complete = excluded.complete, "
              "missing = excluded.missing, requests = excluded.requests, finished_at_ms = excluded.finished_at_ms",
              {ctx.run_id(), source(), name(), ctx.partition_key(), acc.expected, acc.fetched, complete ? 1 : 0,
               acc.missing.empty() ? store::Param() : store::Param(Truncate(Join(acc.missing, "\n"), 8000)),
               acc.requests, ctx.clock().NowMillis()})
          .status();
    };
    ctx.records_in = acc.expected;
    ctx.details = "{\"source\":" + JsonQuoted(source()) + ",\"expected\":" + std::to_string(acc.expected) +
                  ",\"fetched\":" + std::to_string(acc.fetched) + ",\"missing\":" + std::to_string(acc.missing.size()) +
                  ",\"requests\":" + std::to_string(acc.requests) + "}";
    if (complete) {
      return ctx.CommitOutput([&](store::Transaction& t) -> Status {
        ctx.records_out = acc.fetched;
        return record(t);
      });
    }
    Status rs = ctx.store().WithWrite(record);
    if (!rs.ok()) LogWarn(name() + ": recording the scrape failed: " + rs.message());
    if (!s.ok()) return s;
    // A shortfall: the run is incomplete, never a success.
    ctx.category_override = engine::FailureCategory::kIncompleteOutput;
    return FailedPreconditionError("incomplete scrape of " + source() + " for " + ctx.partition_key() + ": fetched " +
                                   std::to_string(acc.fetched) + " of " + std::to_string(acc.expected) + " expected; " +
                                   "missing: " + MissingText(acc.missing));
  }

  HttpClient* http_;
  Sleeper* sleeper_;
  std::unique_ptr<HttpClient> owned_http_;
  RateLimiter limiter_;
};

// ---------------------------------------------------------------------------------------------
// ESPN scoreboard

class EspnScoreboardScraper final : public HttpScraper {
 public:
  using HttpScraper::HttpScraper;
  std::string name() const override { return kScrapeEspn; }
  std::vector<std::string> output_tables() const override { return {"raw_payloads", "raw_schedule", "source_scrapes"}; }

 protected:
  Status Scrape(engine::RunContext& ctx, const std::string& date, Accounting* acc) override {
    // What the stored schedule (another source, or an earlier scrape) expects for the date; read
    // before landing, since the scoreboard's own games then join the schedule.
    std::vector<std::pair<std::string, std::string>> scheduled;  // (away, home)
    RETURN_IF_ERROR(ctx.store().WithRead([&](store::Transaction& t) {
      return t.Query(
          "SELECT away_team, home_team FROM raw_schedule WHERE game_date = ? AND status <> 'postponed' "
          "ORDER BY home_team",
          {date}, [&](const store::Row& r) {
            scheduled.emplace_back(r.Text(0), r.Text(1));
            return OkStatus();
          });
    }));
    std::string ymd = date.substr(0, 4) + date.substr(5, 2) + date.substr(8, 2);
    const std::string what = "ESPN scoreboard " + ymd;
    std::optional<Parsed<GameRecord>> parsed;
    Fetched f = Get(
        ctx, "/apis/site/v2/sports/basketball/nba/scoreboard?dates=" + ymd, what,
        [&](const HttpResponse& r) -> Status {
          auto p = ParseEspnScoreboard(r.body, what);
          if (!p.ok()) return AsBodyCheck(p.status());
          parsed = std::move(p).value();
          return OkStatus();
        },
        acc);
    if (!f.status.ok()) return FailWith(ctx, f);
    if (f.not_modified) {
      // Unchanged since the last scrape: the stored games are current.
      auto p = ParseStored(ctx, *f.cached_payload, what);
      if (!p.ok()) return p.status();
      parsed = std::move(p).value();
    }
    ASSIGN_OR_RETURN(int64_t payload, Land(ctx, f, "espn_scoreboard", ImportKind::kEspnScoreboard));
    (void)payload;
    std::set<std::pair<std::string, std::string>> got;
    for (const GameRecord& g : parsed->records) {
      if (g.game_date == date) got.emplace(g.away_team, g.home_team);
    }
    for (const Reject& r : parsed->rejects) acc->missing.push_back("unreadable event " + r.location + ": " + r.reason);
    if (scheduled.empty()) {
      acc->expected = static_cast<int64_t>(got.size() + parsed->rejects.size());
    } else {
      acc->expected = static_cast<int64_t>(scheduled.size());
      for (const auto& [away, home] : scheduled) {
        if (!got.count({away, home})) {
          acc->missing.push_back(away + " at " + home + " (in the stored schedule, not on the scoreboard)");
        }
      }
    }
    acc->fetched = static_cast<int64_t>(got.size());
    return OkStatus();
  }

 private:
  StatusOr<Parsed<GameRecord>> ParseStored(engine::RunContext& ctx, int64_t payload_id, const std::string& what) {
    ASSIGN_OR_RETURN(std::string content, StoredContent(ctx, payload_id));
    return ParseEspnScoreboard(content, what);
  }
};

// ---------------------------------------------------------------------------------------------
// balldontlie v1

class BalldontlieScraper final : public HttpScraper {
 public:
  using HttpScraper::HttpScraper;
  std::string name() const override { return kScrapeBalldontlie; }
  std::vector<std::string> output_tables() const override {
    return {"raw_payloads", "raw_box_scores", "source_scrapes"};
  }

 protected:
  std::vector<std::pair<std::string, std::string>> AuthHeaders() const override {
    return {{"Authorization", config_.api_key}};
  }

  // Follows balldontlie's cursor over one endpoint: fetches each page (re-reading the stored copy
  // when the server says it is unchanged), parses it and hands it to on_page, which lands it.
  template <typename Page, typename ParseFn, typename PageFn>
  Status FollowCursor(engine::RunContext& ctx, const std::string& endpoint, const std::string& date,
                      const std::string& query, Accounting* acc, ParseFn parse, PageFn on_page) {
    int64_t cursor = -1;  // none yet
    for (int page = 1;; ++page) {
      if (page > kMaxPages) {
        return DataLossError("balldontlie " + endpoint + " for " + date + ": more than " + std::to_string(kMaxPages) +
                             " pages; the cursor does not end");
      }
      const std::string what = "balldontlie " + endpoint + " " + date + " page " + std::to_string(page);
      std::optional<Page> parsed;
      Fetched f = Get(
          ctx, endpoint + "?" + query + (cursor >= 0 ? "&cursor=" + std::to_string(cursor) : ""), what,
          [&](const HttpResponse& r) -> Status {
            auto p = parse(r.body, what);
            if (!p.ok()) return AsBodyCheck(p.status());
            parsed = std::move(p).value();
            return OkStatus();
          },
          acc);
      if (!f.status.ok()) return FailWith(ctx, f);
      if (f.not_modified) {
        ASSIGN_OR_RETURN(std::string content, StoredContent(ctx, *f.cached_payload));
        ASSIGN_OR_RETURN(parsed, parse(content, what));
      }
      RETURN_IF_ERROR(on_page(f, *parsed));
      if (!parsed->next_cursor) return OkStatus();
      if (*parsed->next_cursor == cursor) {
        return DataLossError(what + ": meta.next_cursor repeats " + std::to_string(*parsed->next_cursor));
      }
      cursor = *parsed->next_cursor;
    }
  }

  Status Scrape(engine::RunContext& ctx, const std::string& date, Accounting* acc) override {
    const std::string query = "dates%5B%5D=" + date + "&per_page=" + std::to_string(config_.per_page);
    // 1. The date's games: what the box scores must cover.
    std::map<int64_t, BdlGame> games;
    RETURN_IF_ERROR(FollowCursor<BdlGamesPage>(
        ctx, "/v1/games", date, query, acc,
        [](std::string_view body, const std::string& what) { return ParseBdlGamesPage(body, what); },
        [&](const Fetched& f, const BdlGamesPage& page) -> Status {
          RETURN_IF_ERROR(Land(ctx, f, "balldontlie_games", std::nullopt).status());
          for (const BdlGame& g : page.games) games[g.id] = g;
          return OkStatus();
        }));
    // Box scores exist for finished games only.
    std::map<int64_t, std::string> expected;
    for (const auto& [id, g] : games) {
      if (ToLower(g.status) == "final") expected[id] = g.matchup;
    }
    // 2. The box scores, page by page.
    std::map<std::string, int64_t> rows_by_game;
    RETURN_IF_ERROR(FollowCursor<BalldontlieStatsPage>(
        ctx, "/v1/stats", date, query, acc,
        [](std::string_view body, const std::string& what) { return ParseBalldontlieStats(body, what); },
        [&](const Fetched& f, const BalldontlieStatsPage& page) -> Status {
          // An empty page lands nothing to parse: parse_payload would call it all-rejected.
          const bool has_rows = !page.stats.records.empty() || !page.stats.rejects.empty();
          RETURN_IF_ERROR(
              Land(ctx, f, "balldontlie_stats", has_rows ? std::optional(ImportKind::kBalldontlieStats) : std::nullopt)
                  .status());
          for (const BoxScoreRecord& b : page.stats.records) ++rows_by_game[b.game_id];
          return OkStatus();
        }));
    acc->expected = static_cast<int64_t>(expected.size());
    for (const auto& [id, matchup] : expected) {
      if (rows_by_game.count("bdl:" + std::to_string(id))) {
        ++acc->fetched;
      } else {
        acc->missing.push_back("game " + std::to_string(id) + " (" + matchup + "): final, but no box-score rows");
      }
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------------------------
// The Odds API v4

class OddsApiScraper final : public HttpScraper {
 public:
  using HttpScraper::HttpScraper;
  std::string name() const override { return kScrapeOddsApi; }
  std::vector<std::string> output_tables() const override {
    return {"raw_payloads", "raw_player_props", "source_scrapes"};
  }

 protected:
  std::vector<std::string> SecretParams() const override { return {"apiKey"}; }

  Status Scrape(engine::RunContext& ctx, const std::string& date, Accounting* acc) override {
    std::optional<int64_t> remaining;
    RETURN_IF_ERROR(ctx.store().WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(remaining, t.QueryInt("SELECT quota_remaining FROM http_fetches WHERE source = ? AND "
                                             "quota_remaining IS NOT NULL ORDER BY fetch_id DESC LIMIT 1",
                                             {source()}));
      return OkStatus();
    }));
    const std::string key = "apiKey=" + UrlEncode(config_.api_key);
    const int32_t day = *ParseIsoDate(date);
    // The date's events: tip-offs between midnight and midnight Eastern.
    const std::string from = FormatIsoTimestamp(EasternLocalToUtc(day, 0, 0));
    const std::string to = FormatIsoTimestamp(EasternLocalToUtc(day + 1, 0, 0) - 1);
    // The events call costs no quota and its answer says how much is left, so it is always made:
    // a quota that was used up last month must not stop the scraper for good.
    const std::string what = "The Odds API events " + date;
    std::optional<std::vector<OddsEvent>> events;
    Fetched f = Get(
        ctx,
        "/v4/sports/basketball_nba/events?" + key + "&dateFormat=iso&commenceTimeFrom=" + UrlEncode(from) +
            "&commenceTimeTo=" + UrlEncode(to),
        what,
        [&](const HttpResponse& r) -> Status {
          auto p = ParseOddsEvents(r.body, what);
          if (!p.ok()) return AsBodyCheck(p.status());
          events = std::move(p).value();
          return OkStatus();
        },
        acc);
    if (f.quota_remaining) remaining = f.quota_remaining;
    if (OutOfCredits(f)) return QuotaStop(ctx, 0, "at the events call (OUT_OF_USAGE_CREDITS)", {}, acc);
    if (!f.status.ok()) return FailWith(ctx, f);
    if (f.not_modified) {
      ASSIGN_OR_RETURN(auto content, StoredContent(ctx, *f.cached_payload));
      ASSIGN_OR_RETURN(events, ParseOddsEvents(content, what));
    }
    RETURN_IF_ERROR(Land(ctx, f, "odds_api_events", std::nullopt).status());
    std::vector<OddsEvent> todays;
    for (const OddsEvent& e : *events) {
      if (e.game_date == date) todays.push_back(e);  // the API may ignore the time filter
    }
    acc->expected = static_cast<int64_t>(todays.size());
    for (size_t i = 0; i < todays.size(); ++i) {
      const OddsEvent& e = todays[i];
      if (remaining && *remaining <= config_.quota_reserve) {
        std::vector<OddsEvent> rest(todays.begin() + static_cast<std::ptrdiff_t>(i), todays.end());
        return QuotaStop(ctx, *remaining,
                         "after " + std::to_string(i) + " of " + std::to_string(todays.size()) + " events", rest, acc);
      }
      const std::string ewhat = "The Odds API odds for event " + e.id + " (" + e.matchup + ")";
      Fetched o = Get(
          ctx,
          "/v4/sports/basketball_nba/events/" + UrlEncode(e.id) + "/odds?" + key +
              "&regions=us&markets=player_points&oddsFormat=american&dateFormat=iso",
          ewhat,
          [&](const HttpResponse& r) -> Status {
            return AsBodyCheck(ParseOddsApiEventOdds(r.body, ewhat, ctx.clock().NowSeconds()).status());
          },
          acc);
      if (o.quota_remaining) remaining = o.quota_remaining;
      if (OutOfCredits(o)) {
        std::vector<OddsEvent> rest(todays.begin() + static_cast<std::ptrdiff_t>(i), todays.end());
        return QuotaStop(ctx, 0, "at event " + e.id + " (OUT_OF_USAGE_CREDITS)", rest, acc);
      }
      if (!o.status.ok()) {
        if (o.http_status == 404 || o.http_status == 422) {
          // The event is gone (started, postponed) or has no such market: missing, not fatal.
          acc->missing.push_back("event " + e.id + " (" + e.matchup + "): HTTP " + std::to_string(o.http_status));
          continue;
        }
        return FailWith(ctx, o);
      }
      RETURN_IF_ERROR(Land(ctx, o, "odds_api_event_odds", ImportKind::kOddsApiEventOdds).status());
      ++acc->fetched;
    }
    if (remaining && *remaining <= config_.quota_reserve) {
      RETURN_IF_ERROR(RaiseQuotaIncident(ctx, *remaining, "the scrape of " + date + " completed"));
    } else if (remaining) {
      RETURN_IF_ERROR(ctx.store().WithWrite([&](store::Transaction& t) {
        return engine::ResolveIncident(t, QuotaIncidentKey(source()), ctx.clock().NowMillis());
      }));
    }
    return OkStatus();
  }

 private:
  // The API's answer once the quota is spent: 401 with error_code OUT_OF_USAGE_CREDITS.
  static bool OutOfCredits(const Fetched& f) {
    return f.http_status == 401 && f.error_body.find("OUT_OF_USAGE_CREDITS") != std::string::npos;
  }

  Status RaiseQuotaIncident(engine::RunContext& ctx, int64_t remaining, const std::string& when) {
    return ctx.store().WithWrite([&](store::Transaction& t) {
      return engine::OpenIncident(
          t, QuotaIncidentKey(source()), "critical",
          "The Odds API quota is at " + std::to_string(remaining) + " requests (reserve " +
              std::to_string(config_.quota_reserve) + "): " + when +
              "; no more odds requests until it resets or "
              "the plan is raised",
          "{\"remaining\":" + std::to_string(remaining) + ",\"reserve\":" + std::to_string(config_.quota_reserve) + "}",
          ctx.clock().NowMillis());
    });
  }

  Status QuotaStop(engine::RunContext& ctx, int64_t remaining, const std::string& when,
                   const std::vector<OddsEvent>& not_fetched, Accounting* acc) {
    RETURN_IF_ERROR(RaiseQuotaIncident(ctx, remaining, "stopped " + when));
    for (const OddsEvent& e : not_fetched) {
      acc->missing.push_back("event " + e.id + " (" + e.matchup + "): not requested, quota");
    }
    ctx.category_override = engine::FailureCategory::kRateLimited;
    return UnavailableError("The Odds API quota: " + std::to_string(remaining) + " requests left, at or below the " +
                            "reserve of " + std::to_string(config_.quota_reserve) + "; stopped " + when + " (fetched " +
                            std::to_string(acc->fetched) + " of " + std::to_string(acc->expected) + " events" +
                            (acc->missing.empty() ? "" : "; missing: " + MissingText(acc->missing)) + ")");
  }
};

}  // namespace

std::string QuotaIncidentKey(const std::string& source) { return "source_quota:" + source; }

Status RegisterHttpSources(engine::Runner& runner, const Config& config, const HttpSourceDeps& deps) {
  const SourcesConfig& s = config.sources;
  if (s.espn.http()) RETURN_IF_ERROR(runner.Register(std::make_unique<EspnScoreboardScraper>(runner, s.espn, deps)));
  if (s.balldontlie.http()) {
    RETURN_IF_ERROR(runner.Register(std::make_unique<BalldontlieScraper>(runner, s.balldontlie, deps)));
  }
  if (s.odds_api.http()) RETURN_IF_ERROR(runner.Register(std::make_unique<OddsApiScraper>(runner, s.odds_api, deps)));
  return OkStatus();
}

std::vector<std::string> HttpScraperNames(const Config& config) {
  std::vector<std::string> out;
  if (config.sources.espn.http()) out.push_back(kScrapeEspn);
  if (config.sources.balldontlie.http()) out.push_back(kScrapeBalldontlie);
  if (config.sources.odds_api.http()) out.push_back(kScrapeOddsApi);
  return out;
}

StatusOr<std::vector<SourceStatus>> ListSources(store::Store& store, const Config& config) {
  std::vector<SourceStatus> out;
  RETURN_IF_ERROR(store.WithRead([&](store::Transaction& t) -> Status {
    auto breaker = [&](SourceStatus* s) -> Status {
      ASSIGN_OR_RETURN(auto b, engine::GetBreaker(t, s->name));
      if (b) s->breaker = std::string(engine::BreakerStateName(b->state));
      return OkStatus();
    };
    {
      SourceStatus inbox;
      inbox.name = "inbox";
      inbox.mode = config.inbox.empty() ? "off" : "file";
      inbox.location = config.inbox.empty() ? "-" : config.inbox;
      ASSIGN_OR_RETURN(auto last, t.QueryInt("SELECT MAX(fetched_at) FROM raw_payloads WHERE source = 'file'"));
      if (last) inbox.last_fetch_ms = *last * 1000;
      RETURN_IF_ERROR(breaker(&inbox));
      out.push_back(std::move(inbox));
    }
    for (const HttpSourceConfig* c : config.sources.all()) {
      SourceStatus s;
      s.name = c->name;
      s.mode = c->mode;
      s.location = c->base_url;
      s.key_configured = !c->api_key.empty();
      RETURN_IF_ERROR(
          t.Query("SELECT started_at_ms, http_status FROM http_fetches WHERE source = ? "
                  "ORDER BY fetch_id DESC LIMIT 1",
                  {c->name}, [&](const store::Row& r) {
                    s.last_fetch_ms = r.Int(0);
                    s.last_http_status = static_cast<int>(r.Int(1));
                    return OkStatus();
                  }));
      RETURN_IF_ERROR(
          t.Query("SELECT quota_remaining, quota_used FROM http_fetches WHERE source = ? AND "
                  "quota_remaining IS NOT NULL ORDER BY fetch_id DESC LIMIT 1",
                  {c->name}, [&](const store::Row& r) {
                    s.quota_remaining = r.OptInt(0);
                    s.quota_used = r.OptInt(1);
                    return OkStatus();
                  }));
      RETURN_IF_ERROR(
          t.Query("SELECT partition_key, expected, fetched, complete FROM source_scrapes WHERE source = ? "
                  "ORDER BY finished_at_ms DESC, run_id DESC LIMIT 1",
                  {c->name}, [&](const store::Row& r) {
                    s.last_scrape = r.Text(0) + ": " + std::to_string(r.Int(2)) + "/" + std::to_string(r.Int(1)) +
                                    (r.Int(3) == 1 ? "" : " incomplete");
                    return OkStatus();
                  }));
      RETURN_IF_ERROR(breaker(&s));
      out.push_back(std::move(s));
    }
    return OkStatus();
  }));
  return out;
}

}  // namespace nbaprops::pipeline
