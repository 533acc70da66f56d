// Polite, robust GETs for data sources, on top of HttpClient: a per-source rate limiter, retries
// with exponential backoff that honour Retry-After, and URL redaction for anything stored or shown.
//
//   retried:      no answer (connect error, timeout), 429, 500, 502, 503, 504, and an answer the
//                 caller's body check calls transient (kUnavailable: a truncated body);
//   not retried:  every other 4xx (a wrong key or a wrong URL does not heal by asking again), 2xx/3xx.
//
// Waiting (rate limit, backoff, Retry-After) goes through an injected Sleeper, so tests run a
// whole retry sequence on a FakeClock in microseconds. Nothing here logs; nothing here ever puts a
// URL in a message (URLs carry API keys).
//
// Thread-safety: RateLimiter is safe for concurrent use; FetchWithRetry is reentrant.
#ifndef NBAPROPS_BASE_HTTP_FETCH_H_
#define NBAPROPS_BASE_HTTP_FETCH_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/http_client.h"
#include "base/status.h"

namespace nbaprops {

class Sleeper {
 public:
  virtual ~Sleeper() = default;
  virtual void SleepMillis(int64_t ms) = 0;
};

// Really sleeps (production).
class RealSleeper final : public Sleeper {
 public:
  void SleepMillis(int64_t ms) override;
  static RealSleeper& Default();
};

// Advances a FakeClock instead of sleeping, and remembers every wait (tests).
class FakeClockSleeper final : public Sleeper {
 public:
  explicit FakeClockSleeper(FakeClock& clock) : clock_(clock) {}
  void SleepMillis(int64_t ms) override;
  std::vector<int64_t> waits() const;

 private:
  FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<int64_t> waits_;  // guarded by mu_
};

// Token bucket: `per_minute` requests a minute on average, at most `burst` back to back.
// Invariant: tokens_ <= burst; a request takes one token, waiting until one has accrued.
class RateLimiter {
 public:
  RateLimiter(double per_minute, int burst);
  // Blocks (through `sleeper`) until a request may go; returns how long it waited (ms).
  int64_t Acquire(const Clock& clock, Sleeper& sleeper);

 private:
  const double per_ms_;
  const double burst_;
  std::mutex mu_;
  double tokens_;            // guarded by mu_
  int64_t updated_ms_ = -1;  // guarded by mu_; -1 until the first request
};

struct RetryOptions {
  int max_attempts = 3;             // attempts in all, including the first
  int64_t backoff_base_ms = 1'000;  // wait before attempt n+1: base * 2^(n-1), capped
  int64_t backoff_cap_ms = 30'000;
  int64_t max_retry_after_ms = 120'000;  // a longer Retry-After ends the fetch (rate_limited) instead of waiting
};

// One attempt, as it happened.
struct FetchAttempt {
  int attempt = 0;         // 1-based
  int64_t started_ms = 0;  // Clock time when the request was sent
  int64_t duration_ms = 0;
  int64_t waited_ms = 0;  // rate limiter + backoff before it
  HttpResponse response;
  Status body_check;  // the caller's verdict on a 2xx body (OK when not checked)
};

struct FetchResult {
  std::vector<FetchAttempt> attempts;  // at least one
  const FetchAttempt& last() const { return attempts.back(); }
  // OK for a 2xx whose body passed the check, or a 304. Otherwise the failure, categorized by code:
  //   kUnavailable (5xx, transport error, truncated body), kDeadlineExceeded (timeout),
  //   kUnavailable with rate_limited() (429 / Retry-After beyond the limit), kFailedPrecondition
  //   (401/403: the key is missing or wrong), kInvalidArgument (other 4xx), or the body check's status.
  Status status;
  bool rate_limited = false;  // the last answer was 429
};

// Whether an HTTP status (0: no answer) is worth another attempt.
bool IsRetryableHttpStatus(int status);

// Retry-After as milliseconds: delta-seconds ("120") or an HTTP-date; empty when absent or unreadable.
std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms);

// GETs `request` (method forced to GET). `what` names the request in messages ("balldontlie
// /v1/stats page 2"); it must not contain a secret. `check_body` (optional) judges a 2xx body:
// kUnavailable makes the attempt count as failed and be retried (a truncated download), any
// other error ends the fetch with that status. `on_attempt` sees every attempt before any retry
// (to store each response). The limiter may be null.
FetchResult FetchWithRetry(HttpClient& http, HttpRequest request, const std::string& what, const RetryOptions& options,
                           RateLimiter* limiter, const Clock& clock, Sleeper& sleeper,
                           const std::function<Status(const HttpResponse&)>& check_body = nullptr,
                           const std::function<void(const FetchAttempt&)>& on_attempt = nullptr);

// The URL with the values of the named query parameters replaced by "REDACTED" (names compared
// case-insensitively), and any userinfo ("user:pass@") removed.
std::string RedactUrl(std::string_view url, const std::vector<std::string>& secret_params);

// `text` with every occurrence of each non-empty secret replaced by "[redacted]".
std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets);

// Percent-encodes a query value (RFC 3986 unreserved characters kept).
std::string UrlEncode(std::string_view s);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_HTTP_FETCH_H_
