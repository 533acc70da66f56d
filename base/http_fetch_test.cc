#include "base/http_fetch.h"

#include <gtest/gtest.h>

#include <deque>

namespace nbaprops {
namespace {

// Answers from a script, in order; the last one repeats.
class ScriptedHttp final : public HttpClient {
 public:
  explicit ScriptedHttp(std::deque<HttpResponse> script) : script_(std::move(script)) {}
  HttpResponse Send(const HttpRequest& request) override {
    ++calls;
    last_method = request.method;
    HttpResponse r = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return r;
  }
  int calls = 0;
  std::string last_method;

 private:
  std::deque<HttpResponse> script_;
};

HttpResponse Answer(int status, std::string body = "{}", std::map<std::string, std::string> headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

HttpResponse Timeout() {
  HttpResponse r;
  r.transport_error = "Timeout was reached";
  r.timed_out = true;
  return r;
}

TEST(RedactUrlTest, HidesKeyParametersAndUserinfo) {
  EXPECT_EQ(RedactUrl("https://api.the-odds-api.com/v4/sports?apiKey=abc123&regions=us", {"apiKey"}),
            "https://api.the-odds-api.com/v4/sports?apiKey=REDACTED&regions=us");
  EXPECT_EQ(RedactUrl("http://h/x?regions=us&APIKEY=abc#frag", {"apiKey"}),
            "http://h/x?regions=us&APIKEY=REDACTED#frag");
  EXPECT_EQ(RedactUrl("https://user:pw@host:8080/p?q=1", {}), "https://host:8080/p?q=1");
  EXPECT_EQ(RedactUrl("https://host/p", {"apiKey"}), "https://host/p");
  EXPECT_EQ(RedactSecrets("key k3y and k3y", {"k3y", ""}), "key [redacted] and [redacted]");
}

TEST(RetryAfterTest, SecondsAndHttpDates) {
  EXPECT_EQ(ParseRetryAfterMs("120", 0), 120'000);
  EXPECT_EQ(ParseRetryAfterMs(" 0 ", 0), 0);
  EXPECT_FALSE(ParseRetryAfterMs("", 0));
  EXPECT_FALSE(ParseRetryAfterMs("soon", 0));
  // Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 s.
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480'000 - 30'000), 30'000);
  EXPECT_EQ(ParseRetryAfterMs("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480'000 + 5'000), 0);  // in the past
}

TEST(RateLimiterTest, AllowsTheBurstThenSpacesRequests) {
  FakeClock clock(1'000'000);
  FakeClockSleeper sleeper(clock);
  RateLimiter limiter(60, 2);  // 1 a second, 2 back to back
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 0);
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 0);
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 1000);
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 1000);
  clock.AdvanceMillis(10'000);  // idle: the bucket refills to its burst, not beyond
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 0);
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 0);
  EXPECT_EQ(limiter.Acquire(clock, sleeper), 1000);
  RateLimiter unlimited(0, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(unlimited.Acquire(clock, sleeper), 0);
}

TEST(FetchWithRetryTest, RetriesServerErrorsAndTimeoutsWithBackoff) {
  FakeClock clock(0);
  FakeClockSleeper sleeper(clock);
  ScriptedHttp http({Answer(503), Timeout(), Answer(200, "ok")});
  RetryOptions o;
  o.max_attempts = 3;
  HttpRequest req;
  req.url = "http://x/";
  int seen = 0;
  FetchResult r =
      FetchWithRetry(http, req, "test", o, nullptr, clock, sleeper, nullptr, [&](const FetchAttempt&) { ++seen; });
  EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(http.calls, 3);
  EXPECT_EQ(seen, 3);
  EXPECT_EQ(http.last_method, "GET");
  EXPECT_EQ(sleeper.waits(), (std::vector<int64_t>{1000, 2000}));
}

TEST(FetchWithRetryTest, HonoursRetryAfterAndGivesUpBeyondTheLimit) {
  FakeClock clock(0);
  FakeClockSleeper sleeper(clock);
  ScriptedHttp http({Answer(429, "{}", {{"retry-after", "9"}}), Answer(200)});
  HttpRequest req;
  FetchResult r = FetchWithRetry(http, req, "test", RetryOptions{}, nullptr, clock, sleeper);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(sleeper.waits(), (std::vector<int64_t>{9000}));

  ScriptedHttp always({Answer(429, "{}", {{"retry-after", "600"}})});
  r = FetchWithRetry(always, req, "test", RetryOptions{}, nullptr, clock, sleeper);
  EXPECT_EQ(r.status.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.rate_limited);
  EXPECT_EQ(always.calls, 1);
}

TEST(FetchWithRetryTest, OtherClientErrorsAreNotRetried) {
  FakeClock clock(0);
  FakeClockSleeper sleeper(clock);
  for (int status : {400, 401, 403, 404, 422}) {
    ScriptedHttp http({Answer(status)});
    FetchResult r = FetchWithRetry(http, HttpRequest{}, "test", RetryOptions{}, nullptr, clock, sleeper);
    EXPECT_EQ(http.calls, 1) << status;
    EXPECT_EQ(r.status.code(),
              status == 401 || status == 403 ? StatusCode::kFailedPrecondition : StatusCode::kInvalidArgument)
        << status;
  }
}

TEST(FetchWithRetryTest, ABodyTheCheckCallsTransientIsRetried) {
  FakeClock clock(0);
  FakeClockSleeper sleeper(clock);
  ScriptedHttp http({Answer(200, "{\"da"), Answer(200, "{\"data\":[]}")});
  auto check = [](const HttpResponse& r) { return r.body.size() < 6 ? UnavailableError("truncated") : OkStatus(); };
  FetchResult r = FetchWithRetry(http, HttpRequest{}, "test", RetryOptions{}, nullptr, clock, sleeper, check);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(r.attempts.size(), 2u);
  EXPECT_EQ(r.attempts[0].body_check.code(), StatusCode::kUnavailable);
  // A changed shape is final.
  ScriptedHttp shape({Answer(200, "{}")});
  r = FetchWithRetry(shape, HttpRequest{}, "test", RetryOptions{}, nullptr, clock, sleeper,
                     [](const HttpResponse&) { return DataLossError("field 'pts' missing"); });
  EXPECT_EQ(r.status.code(), StatusCode::kDataLoss);
  EXPECT_EQ(shape.calls, 1);
}

}  // namespace
}  // namespace nbaprops
