#include "base/http_fetch.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/strings.h"
#include "base/time.h"

namespace nbaprops {

void RealSleeper::SleepMillis(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

RealSleeper& RealSleeper::Default() {
  static RealSleeper s;
  return s;
}

void FakeClockSleeper::SleepMillis(int64_t ms) {
  if (ms <= 0) return;
  {
    std::lock_guard<std::mutex> l(mu_);
    waits_.push_back(ms);
  }
  clock_.AdvanceMillis(ms);
}

std::vector<int64_t> FakeClockSleeper::waits() const {
  std::lock_guard<std::mutex> l(mu_);
  return waits_;
}

RateLimiter::RateLimiter(double per_minute, int burst)
    : per_ms_(per_minute / 60'000.0), burst_(std::max(1, burst)), tokens_(std::max(1, burst)) {}

int64_t RateLimiter::Acquire(const Clock& clock, Sleeper& sleeper) {
  if (per_ms_ <= 0) return 0;  // unlimited
  int64_t wait = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t now = clock.NowMillis();
    if (updated_ms_ >= 0 && now > updated_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - updated_ms_) * per_ms_);
    }
    updated_ms_ = std::max(updated_ms_, now);
    if (tokens_ < 1) {
      wait = static_cast<int64_t>((1 - tokens_) / per_ms_ + 0.999);
      // The token that accrues while we wait is ours: book it now so concurrent callers queue
      // behind this one instead of all waking at the same instant.
      tokens_ += static_cast<double>(wait) * per_ms_;
      updated_ms_ += wait;
    }
    tokens_ -= 1;
  }
  sleeper.SleepMillis(wait);
  return wait;
}

bool IsRetryableHttpStatus(int status) {
  return status == 0 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<int64_t> ParseRetryAfterMs(std::string_view value, int64_t now_ms) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (auto secs = ParseInt(value)) {
    if (*secs < 0) return std::nullopt;
    return *secs * 1000;
  }
  // IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT".
  char wday[4] = {}, mon[4] = {};
  int day = 0, year = 0, hh = 0, mm = 0, ss = 0;
  std::string v(value);
  if (std::sscanf(v.c_str(), "%3s, %d %3s %d %d:%d:%d GMT", wday, &day, mon, &year, &hh, &mm, &ss) != 7) {
    return std::nullopt;
  }
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (std::string_view(mon) == kMonths[i]) month = i + 1;
  }
  if (month == 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  const int64_t at_ms =
      (int64_t{DaysFromCivil(year, month, day)} * 86400 + int64_t{hh} * 3600 + int64_t{mm} * 60 + ss) * 1000;
  return std::max<int64_t>(0, at_ms - now_ms);
}

namespace {

std::string AnswerText(const HttpResponse& r) {
  if (!r.answered()) {
    return r.timed_out ? "timed out (" + r.transport_error + ")" : "no answer (" + r.transport_error + ")";
  }
  return "HTTP " + std::to_string(r.status);
}

Status FinalStatus(const FetchAttempt& a, const std::string& what, int attempts) {
  const HttpResponse& r = a.response;
  const std::string tries = attempts > 1 ? " after " + std::to_string(attempts) + " attempts" : "";
  if (!r.answered()) {
    Status s(r.timed_out ? StatusCode::kDeadlineExceeded : StatusCode::kUnavailable,
             what + ": " + AnswerText(r) + tries + "; the source is unreachable or slow, the run will be retried");
    return s;
  }
  if (r.status == 304 || (r.status >= 200 && r.status < 300)) {
    if (!a.body_check.ok()) {
      return Status(a.body_check.code(), a.body_check.message() + tries);
    }
    return OkStatus();
  }
  if (r.status == 429) {
    return UnavailableError(what + ": HTTP 429 Too Many Requests" + tries +
                            "; rate limited by the source, the run will be retried later");
  }
  if (r.status >= 500) {
    return UnavailableError(what + ": HTTP " + std::to_string(r.status) + tries +
                            "; the source failed, the run will be retried");
  }
  if (r.status == 401 || r.status == 403) {
    return FailedPreconditionError(what + ": HTTP " + std::to_string(r.status) +
                                   ": the API key was refused; check the key configured for this source "
                                   "(api_key_env / api_key_file) and the plan's access");
  }
  return InvalidArgumentError(what + ": HTTP " + std::to_string(r.status) +
                              " (not retried: the request itself is wrong; check the base URL and parameters)");
}

}  // namespace

FetchResult FetchWithRetry(HttpClient& http, HttpRequest request, const std::string& what, const RetryOptions& options,
                           RateLimiter* limiter, const Clock& clock, Sleeper& sleeper,
                           const std::function<Status(const HttpResponse&)>& check_body,
                           const std::function<void(const FetchAttempt&)>& on_attempt) {
  request.method = "GET";
  request.body.clear();
  FetchResult result;
  int64_t backoff_wait = 0;
  const int max_attempts = std::max(1, options.max_attempts);
  for (int attempt = 1; attempt <= max_attempts; ++attempt) {
    FetchAttempt a;
    a.attempt = attempt;
    sleeper.SleepMillis(backoff_wait);
    a.waited_ms = backoff_wait + (limiter ? limiter->Acquire(clock, sleeper) : 0);
    a.started_ms = clock.NowMillis();
    const auto t0 = std::chrono::steady_clock::now();
    a.response = http.Send(request);
    // Real elapsed time, so a fake clock in tests still records how long loopback took.
    a.duration_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    const int st = a.response.status;
    bool retry = IsRetryableHttpStatus(st);
    if (st >= 200 && st < 300) {
      if (a.response.body_truncated) {
        a.body_check = UnavailableError(what + ": the body exceeded " + std::to_string(request.max_body_bytes) +
                                        " bytes and was cut; raise the limit or narrow the request");
        retry = false;
      } else if (check_body) {
        a.body_check = check_body(a.response);
        retry = a.body_check.code() == StatusCode::kUnavailable;
      }
    }
    result.rate_limited = st == 429;
    if (on_attempt) on_attempt(a);
    result.attempts.push_back(std::move(a));
    if (!retry || attempt == max_attempts) break;
    // Backoff: base * 2^(n-1), capped; a Retry-After from the server wins when it is longer.
    backoff_wait = std::min(options.backoff_cap_ms, options.backoff_base_ms << std::min(attempt - 1, 20));
    const HttpResponse& r = result.attempts.back().response;
    if (r.answered()) {
      if (auto ra = ParseRetryAfterMs(r.Header("retry-after"), clock.NowMillis())) {
        if (*ra > options.max_retry_after_ms) {
          result.status = UnavailableError(what + ": HTTP " + std::to_string(r.status) + " with Retry-After " +
                                           std::to_string(*ra / 1000) + " s, longer than the " +
                                           std::to_string(options.max_retry_after_ms / 1000) +
                                           " s this run waits; the run will be retried later");
          return result;
        }
        backoff_wait = std::max(backoff_wait, *ra);
      }
    }
  }
  result.status = FinalStatus(result.last(), what, static_cast<int>(result.attempts.size()));
  return result;
}

std::string RedactUrl(std::string_view url, const std::vector<std::string>& secret_params) {
  std::string out(url);
  // userinfo: scheme://user:pass@host
  if (size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t host_start = scheme + 3;
    const size_t path_start = out.find_first_of("/?#", host_start);
    const size_t at = out.rfind('@', path_start == std::string::npos ? out.size() : path_start);
    if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  }
  const size_t q = out.find('?');
  if (q == std::string::npos) return out;
  std::string result = out.substr(0, q + 1);
  const size_t hash = out.find('#', q);
  const std::string query = out.substr(q + 1, hash == std::string::npos ? std::string::npos : hash - q - 1);
  bool first = true;
  for (const std::string& part : Split(query, '&')) {
    if (!first) result += '&';
    first = false;
    const size_t eq = part.find('=');
    const std::string name = ToLower(part.substr(0, eq));
    bool secret = false;
    for (const std::string& p : secret_params) secret = secret || ToLower(p) == name;
    result += secret && eq != std::string::npos ? part.substr(0, eq + 1) + "REDACTED" : part;
  }
  if (hash != std::string::npos) result += out.substr(hash);
  return result;
}

std::string RedactSecrets(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    if (s.empty()) continue;
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos)) {
      text.replace(pos, s.size(), "[redacted]");
      pos += 10;
    }
  }
  return text;
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace nbaprops
