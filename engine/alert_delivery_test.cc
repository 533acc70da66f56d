// Alert delivery: the token bucket, Retry-After, backoff on errors and timeouts, broken channels,
// webhook signatures, the outbox across restarts and crashes, `alerts test`, and messages too
// old to send (fixture: engine/alerts_test_fixture.h).
#include "engine/alerts_test_fixture.h"

namespace nbaprops::engine::alerts_testing {
namespace {

TEST_F(AlertsTest, TokenBucketBoundsDeliveriesPerSecond) {
  AlertOptions o;
  o.group_window_ms = 0;  // every incident its own message, to load the bucket
  AlertChannel ch = Slack();
  ch.rate_per_s = 1;
  ch.burst = 5;
  auto d = Make({ch}, o);
  for (int i = 0; i < 30; ++i) Open("flood:" + std::to_string(i));
  DispatchResult r = Run(*d);
  EXPECT_EQ(r.queued, 30);
  EXPECT_EQ(r.sent, 5);
  EXPECT_EQ(r.rate_limited, 1);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 5u);
  for (int64_t elapsed_ms = 250; elapsed_ms <= 30 * kSec; elapsed_ms += 250) {
    clock_.SetMillis(kT0 + elapsed_ms);
    Run(*d);
    const size_t n = receiver_.Requests(kSlackPath).size();
    ASSERT_LE(n, 5u + static_cast<size_t>(elapsed_ms / 1000)) << "at +" << elapsed_ms << " ms";
  }
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 30u);
  // In every window of fake time, no more than burst + rate * window.
  for (size_t i = 0; i < reqs.size(); ++i) {
    for (size_t j = i; j < reqs.size(); ++j) {
      ASSERT_LE(static_cast<int64_t>(j - i + 1), 5 + (reqs[j].at_ms - reqs[i].at_ms) / 1000);
    }
  }
  EXPECT_EQ(reqs.back().at_ms, kT0 + 25 * kSec);  // 5 at once, then one per second
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'sent'"), 30);
  EXPECT_EQ(Count(*store_, "SELECT MAX(attempts) FROM alert_outbox"), 1);
}

TEST_F(AlertsTest, RetryAfterIsHonouredInSecondsAndAsAnHttpDate) {
  AlertOptions o;
  o.group_window_ms = 0;
  auto d = Make({Slack()}, o);
  receiver_.Script(kSlackPath,
                   {{429, "120", "rate_limited"}, {429, "Thu, 01 Feb 2024 00:05:00 GMT", "slow down"}, {200}});
  Open("x:1");
  Run(*d);
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  for (int s = 1; s < 120; ++s) {
    clock_.SetMillis(kT0 + s * kSec);
    Open("x:more" + std::to_string(s % 3));  // more work arriving must not jump the pause
    Run(*d);
  }
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u) << "a request before Retry-After";
  clock_.SetMillis(kT0 + 120 * kSec);
  Run(*d);  // second answer: 429 until 00:05:00 GMT, that is kT0 + 300 s
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 2u);
  for (int s = 121; s < 300; s += 7) {
    clock_.SetMillis(kT0 + s * kSec);
    Run(*d);
  }
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 2u);
  clock_.SetMillis(kT0 + 300 * kSec);
  Run(*d);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_GE(reqs.size(), 3u);
  EXPECT_EQ(reqs[1].at_ms, kT0 + 120 * kSec);
  EXPECT_EQ(reqs[2].at_ms, kT0 + 300 * kSec);
  EXPECT_EQ(reqs[0].body, reqs[2].body);  // the same message, retried
  EXPECT_EQ(Count(*store_, "SELECT attempts FROM alert_outbox ORDER BY id LIMIT 1"), 3);
  EXPECT_EQ(Count(*store_, "SELECT last_http_status FROM alert_outbox ORDER BY id LIMIT 1"), 200);
}

TEST_F(AlertsTest, ServerErrorsAreRetriedWithExponentialBackoff) {
  AlertOptions o;
  o.group_window_ms = 0;
  o.retry_base_ms = kSec;
  auto d = Make({Hook()}, o);
  receiver_.Script(kHookPath, {{500, "", "oops"}, {502}, {503}, {200}});
  Open("y:1");
  for (int64_t t = 0; t <= 20 * kSec; t += 250) {
    clock_.SetMillis(kT0 + t);
    Run(*d);
  }
  auto reqs = receiver_.Requests(kHookPath);
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].at_ms, kT0);
  EXPECT_EQ(reqs[1].at_ms, kT0 + 1 * kSec);  // + 1 s
  EXPECT_EQ(reqs[2].at_ms, kT0 + 3 * kSec);  // + 2 s
  EXPECT_EQ(reqs[3].at_ms, kT0 + 7 * kSec);  // + 4 s
  for (const auto& r : reqs) EXPECT_EQ(r.body, reqs[0].body);
  EXPECT_EQ(Count(*store_, "SELECT attempts FROM alert_outbox"), 4);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'sent'"), 1);
  EXPECT_EQ(ChannelState("pager"), "ok");
}

TEST_F(AlertsTest, TimeoutsAndRefusedConnectionsAreRetried) {
  AlertOptions o;
  o.group_window_ms = 0;
  o.total_timeout_ms = 300;
  AlertChannel refused = Slack("nowhere");
  refused.url = "http://127.0.0.1:1/services/T/B/refusedSecret";
  auto d = Make({Hook(), refused}, o);
  receiver_.Script(kHookPath, {{200, "", "late", 1500}, {200}});
  Open("z:1");
  DispatchResult r = Run(*d);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE last_error LIKE 'timeout:%'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE last_error LIKE 'transport error:%'"), 1);
  clock_.AdvanceMillis(kSec);
  r = Run(*d);
  EXPECT_EQ(r.sent, 1);  // the hook answers in time now; the refused one keeps backing off
  EXPECT_EQ(r.failed, 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'pending'"), 1);
}

TEST_F(AlertsTest, GoneChannelIsBrokenAndTheOtherChannelIsTold) {
  auto d = Make({Slack(), Hook()});
  receiver_.Script(kSlackPath, {{404, "", "no_service"}}, /*sticky=*/true);
  Open("deadline_missed:export", "warning");
  clock_.AdvanceMillis(30 * kSec);
  DispatchResult r = Run(*d);
  EXPECT_EQ(r.broken, std::vector<std::string>{"ops"});
  EXPECT_EQ(ChannelState("ops"), "broken");
  auto inc = OpenIncidentFor("alert_channel_broken:ops");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("HTTP 404"));
  ASSERT_EQ(receiver_.Requests(kHookPath).size(), 1u);

  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  auto hook = receiver_.Requests(kHookPath);
  ASSERT_EQ(hook.size(), 2u);
  auto body = nlohmann::json::parse(hook[1].body);
  EXPECT_EQ(body["severity"], "critical");
  EXPECT_EQ(body["incidents"][0]["key"], "alert_channel_broken:ops");
  EXPECT_EQ(body["incidents"][0]["event"], "open");
  // The broken channel is probed only every broken_probe_ms (5 min), and never told of itself.
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  for (int i = 0; i < 4; ++i) {
    clock_.AdvanceMillis(kMin);
    Run(*d);
  }
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 1u);

  // The URL is fixed: the next probe delivers the held message, the channel recovers and the
  // other channel hears that the incident is resolved.
  receiver_.Script(kSlackPath, {});
  clock_.AdvanceMillis(kMin);
  r = Run(*d);
  EXPECT_EQ(r.recovered, std::vector<std::string>{"ops"});
  EXPECT_EQ(ChannelState("ops"), "ok");
  EXPECT_FALSE(OpenIncidentFor("alert_channel_broken:ops").has_value());
  auto slack = receiver_.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 2u);
  EXPECT_THAT(slack[1].body, HasSubstr("deadline_missed:export"));
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  hook = receiver_.Requests(kHookPath);
  ASSERT_EQ(hook.size(), 3u);
  body = nlohmann::json::parse(hook[2].body);
  EXPECT_EQ(body["incidents"][0]["key"], "alert_channel_broken:ops");
  EXPECT_EQ(body["incidents"][0]["event"], "resolve");
  for (const auto& req : receiver_.Requests(kSlackPath)) {
    EXPECT_THAT(req.body, Not(HasSubstr("alert_channel_broken")));
  }
}

TEST_F(AlertsTest, ChannelFailingLongerThanTheThresholdIsBroken) {
  AlertOptions o;
  o.broken_after_ms = kHour;
  auto d = Make({Hook(), Slack()}, o);
  receiver_.Script(kHookPath, {{503}}, /*sticky=*/true);
  Open("p:1", "critical");
  clock_.AdvanceMillis(30 * kSec);
  const int64_t first_failure = clock_.NowMillis();
  int64_t broken_at = 0;
  for (int i = 0; i < 120 && !broken_at; ++i) {
    Run(*d);
    if (ChannelState("pager") == "broken") broken_at = clock_.NowMillis();
    clock_.AdvanceMillis(kMin);
  }
  ASSERT_GT(broken_at, 0);
  EXPECT_GE(broken_at - first_failure, kHour);
  EXPECT_LE(broken_at - first_failure, kHour + 11 * kMin);  // the backoff is capped at 10 min
  auto inc = OpenIncidentFor("alert_channel_broken:pager");
  ASSERT_TRUE(inc.has_value());
  EXPECT_THAT(inc->summary, HasSubstr("failing for"));
  clock_.AdvanceMillis(kMin);
  Run(*d);
  bool told = false;
  for (const auto& req : receiver_.Requests(kSlackPath))
    told |= req.body.find("alert_channel_broken:pager") != std::string::npos;
  EXPECT_TRUE(told);
}

TEST_F(AlertsTest, WebhookSignatureIsVerifiableByTheReceiver) {
  // RFC 4231 test case 2 pins the primitive.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  auto d = Make({Hook()});
  Open("q:1", "critical");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  auto reqs = receiver_.Requests(kHookPath);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& h = reqs[0].headers;
  ASSERT_TRUE(h.count("x-nbaprops-timestamp"));
  ASSERT_TRUE(h.count("x-nbaprops-signature"));
  EXPECT_EQ(h.at("x-nbaprops-timestamp"), std::to_string(clock_.NowSeconds()));
  EXPECT_EQ(h.at("x-nbaprops-signature"),
            "sha256=" + HmacSha256Hex(kHookSecret, h.at("x-nbaprops-timestamp") + "." + reqs[0].body));
  EXPECT_NE(h.at("x-nbaprops-signature"),
            "sha256=" + HmacSha256Hex(kHookSecret, h.at("x-nbaprops-timestamp") + "." + reqs[0].body + " "));
  EXPECT_THAT(h.at("content-type"), HasSubstr("application/json"));
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(std::to_string(body["id"].get<int64_t>()), h.at("x-nbaprops-delivery"));
  EXPECT_EQ(body["event"], "open");
  EXPECT_EQ(body["incidents"][0]["key"], "q:1");
  EXPECT_EQ(body["incidents"][0]["details"], "{\"why\":\"test\"}");
}

// Fails the process "between send and mark": the request goes out, then the dispatcher dies.
class CrashAfterSend : public HttpClient {
 public:
  explicit CrashAfterSend(HttpClient& real) : real_(real) {}
  HttpResponse Send(const HttpRequest& r) override {
    real_.Send(r);
    throw std::runtime_error("crash between send and mark");
  }

 private:
  HttpClient& real_;
};

TEST_F(AlertsTest, OutboxSurvivesARestart) {
  AlertOptions o;
  o.group_window_ms = 0;
  {
    // The receiver is down (500) when the first dispatcher queues and tries.
    receiver_.Script(kSlackPath, {{500}}, /*sticky=*/true);
    auto d = Make({Slack()}, o);
    Open("r:1");
    Open("r:2");
    DispatchResult r = Run(*d);
    EXPECT_EQ(r.queued, 2);
    EXPECT_EQ(r.failed, 1);
  }
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'pending'"), 2);
  receiver_.Script(kSlackPath, {});
  // A new process on the same database sends what was pending, each once, and queues nothing new.
  store_.reset();
  store_ = OpenTestStore(dir_.File("alerts.db"));
  clock_.AdvanceMillis(kMin);
  auto d2 = Make({Slack()}, o);
  DispatchResult r = Run(*d2);
  EXPECT_EQ(r.queued, 0);
  EXPECT_EQ(r.sent, 2);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 3u);  // one failed try, then both
  EXPECT_THAT(reqs[1].body, HasSubstr("r:1"));
  EXPECT_THAT(reqs[2].body, HasSubstr("r:2"));
  Run(*d2);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 3u);
}

TEST_F(AlertsTest, CrashBetweenSendAndMarkResendsOnceAndRecordsTheAttempt) {
  AlertOptions o;
  o.group_window_ms = 0;
  o.claim_ms = 2 * kMin;
  Open("s:1");
  {
    CrashAfterSend crashing(http_);
    Dispatcher d(*store_, clock_, crashing, {Slack()}, o);
    EXPECT_THROW((void)d.RunOnce(), std::runtime_error);
  }
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  EXPECT_EQ(Count(*store_, "SELECT attempts FROM alert_outbox"), 1);
  auto d = Make({Slack()}, o);
  clock_.AdvanceMillis(kMin);
  Run(*d);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 1u) << "resent while another sender's claim was live";
  clock_.AdvanceMillis(kMin);
  Run(*d);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 2u);  // at-least-once: the same message again
  EXPECT_EQ(reqs[0].body, reqs[1].body);
  EXPECT_EQ(Count(*store_, "SELECT attempts FROM alert_outbox WHERE status = 'sent'"), 2);
  clock_.AdvanceMillis(kHour);
  Run(*d);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 2u);
}

TEST_F(AlertsTest, SendTestReportsTheHttpResult) {
  auto d = Make({Slack(), Hook("gone", "/hooks/gone")});
  receiver_.Script("/hooks/gone", {{410, "", "gone"}});
  auto ok = d->SendTest("ops");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->http_status, 200);
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  EXPECT_THAT(receiver_.Requests(kSlackPath)[0].body, HasSubstr("test message"));
  auto bad = d->SendTest("gone");
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->http_status, 410);
  EXPECT_EQ(ChannelState("gone"), "broken");
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE event = 'test' AND status = 'dead'"), 1);
  // Fixed: a passing test heals the channel at once.
  auto healed = d->SendTest("gone");
  ASSERT_TRUE(healed.ok());
  EXPECT_TRUE(healed->ok);
  EXPECT_EQ(ChannelState("gone"), "ok");
  EXPECT_FALSE(OpenIncidentFor("alert_channel_broken:gone").has_value());
  auto missing = d->SendTest("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("configured: ops, gone"));
}

TEST_F(AlertsTest, MessagesHeldLongerThanADayAreDroppedNotSentLate) {
  AlertOptions o;
  o.group_window_ms = 0;
  o.repeat_after_ms = 0;  // a reminder of old:1 would be fresh news, not the held message
  auto d = Make({Slack(), Hook()}, o);
  receiver_.Script(kSlackPath, {{404}}, /*sticky=*/true);
  Open("old:1");
  Run(*d);
  EXPECT_EQ(ChannelState("ops"), "broken");
  clock_.AdvanceMillis(25 * kHour);
  Open("new:1");
  receiver_.Script(kSlackPath, {});
  DispatchResult r = Run(*d);
  EXPECT_EQ(r.dead, 1);
  EXPECT_EQ(r.recovered, std::vector<std::string>{"ops"});
  auto slack = receiver_.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 2u);
  EXPECT_THAT(slack[1].body, HasSubstr("new:1"));
  EXPECT_THAT(slack[1].body, Not(HasSubstr("old:1")));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'dead' AND last_error LIKE 'expired:%'"),
            1);
}

}  // namespace
}  // namespace nbaprops::engine::alerts_testing
