// Alert delivery against a REAL local webhook receiver (cpp-httplib on 127.0.0.1) through the
// real libcurl client, with a real SQLite file and a fake clock: nothing here waits for time to
// pass, every "later" is FakeClock::AdvanceMillis.
#include "engine/alerts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/config.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/incidents.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1'706'745'600'000;  // 2024-02-01T00:00:00Z, a Thursday
constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
constexpr int64_t kHour = 60 * kMin;
// The secret part of the Slack URL: must never be stored or logged.
constexpr char kSlackPath[] = "/services/T0001/B0002/s3cr3tSlackToken";
constexpr char kHookPath[] = "/hooks/pager-7f9c2d";
constexpr char kHookSecret[] = "hmac-key-for-tests";

// A webhook receiver: answers each path from a script (then 200), records every request with
// the fake time at which it arrived.
class Receiver {
 public:
  struct Reply {
    Reply(int status = 200, std::string retry_after = "", std::string body = "ok", int delay_ms = 0)  // NOLINT
        : status(status), retry_after(std::move(retry_after)), body(std::move(body)), delay_ms(delay_ms) {}
    int status;
    std::string retry_after;
    std::string body;
    int delay_ms;  // real time: only for the timeout test
  };
  struct Request {
    std::string path, body;
    std::map<std::string, std::string> headers;  // lower-cased names
    int64_t at_ms = 0;
  };

  explicit Receiver(const Clock& clock) : clock_(clock) {
    server_.set_tcp_nodelay(true);
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      Reply reply;
      {
        std::lock_guard<std::mutex> lock(mu_);
        Request r{req.path, req.body, {}, clock_.NowMillis()};
        for (const auto& [k, v] : req.headers) r.headers[ToLower(k)] = v;
        requests_.push_back(std::move(r));
        auto& script = scripts_[req.path];
        if (!script.empty()) {
          reply = script.front();
          if (script.size() > 1 || !sticky_[req.path]) script.pop_front();
        }
      }
      if (reply.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
      res.status = reply.status;
      if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
      res.set_content(reply.body, "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }

  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  // Replies for the next requests on `path`; with sticky, the last one repeats forever.
  void Script(const std::string& path, std::deque<Reply> replies, bool sticky = false) {
    std::lock_guard<std::mutex> lock(mu_);
    scripts_[path] = std::move(replies);
    sticky_[path] = sticky;
  }
  std::vector<Request> Requests(const std::string& path) const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Request> out;
    for (const auto& r : requests_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }

 private:
  static std::string ToLower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  const Clock& clock_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::map<std::string, std::deque<Reply>> scripts_;
  std::map<std::string, bool> sticky_;
};

class AlertsTest : public ::testing::Test {
 protected:
  AlertsTest() : clock_(kT0), receiver_(clock_) {}
  void SetUp() override { store_ = OpenTestStore(dir_.File("alerts.db")); }

  AlertChannel Slack(const std::string& name = "ops", const std::string& path = kSlackPath) {
    AlertChannel c;
    c.name = name;
    c.kind = AlertChannelKind::kSlack;
    c.min_severity = "info";
    c.url = receiver_.Url(path);
    return c;
  }
  AlertChannel Hook(const std::string& name = "pager", const std::string& path = kHookPath) {
    AlertChannel c;
    c.name = name;
    c.kind = AlertChannelKind::kWebhook;
    c.min_severity = "info";
    c.url = receiver_.Url(path);
    c.secret = kHookSecret;
    return c;
  }
  std::unique_ptr<Dispatcher> Make(std::vector<AlertChannel> channels, AlertOptions o = {}) {
    o.total_timeout_ms = std::min<int64_t>(o.total_timeout_ms, 5'000);
    return std::make_unique<Dispatcher>(*store_, clock_, http_, std::move(channels), o);
  }

  void Open(const std::string& key, const std::string& severity = "warning") {
    ASSERT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) {
                      return OpenIncident(t, key, severity, "summary of " + key, "{\"why\":\"test\"}",
                                          clock_.NowMillis());
                    })
                    .ok());
  }
  void Resolve(const std::string& key) {
    ASSERT_TRUE(
        store_->WithWrite([&](store::Transaction& t) { return ResolveIncident(t, key, clock_.NowMillis()); }).ok());
  }
  DispatchResult Run(Dispatcher& d) {
    auto r = d.RunOnce();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : DispatchResult{};
  }
  std::optional<Incident> OpenIncidentFor(const std::string& key) {
    std::optional<Incident> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(out, GetOpenIncident(t, key));
                      return OkStatus();
                    })
                    .ok());
    return out;
  }
  std::string ChannelState(const std::string& name) {
    std::string state;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto s, t.QueryText("SELECT state FROM alert_channels WHERE name = ?", {name}));
                      state = s.value_or("");
                      return OkStatus();
                    })
                    .ok());
    return state;
  }
  // Every cell of every table the alerts touch, as text.
  std::string DumpTables() {
    std::string all;
    for (const char* table : {"alert_outbox", "alert_channels", "alert_notices", "incidents"}) {
      EXPECT_TRUE(store_
                      ->WithRead([&](store::Transaction& t) {
                        return t.Query(std::string("SELECT * FROM ") + table, {}, [&](const store::Row& r) {
                          for (int c = 0; c < r.size(); ++c) all += (r.IsNull(c) ? "" : r.Text(c)) + "|";
                          all += "\n";
                          return OkStatus();
                        });
                      })
                      .ok());
    }
    return all;
  }

  TempDir dir_;
  FakeClock clock_;
  Receiver receiver_;
  CurlHttpClient http_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AlertsTest, OneNotificationWhenAnIncidentOpensAndOneWhenItResolves) {
  auto d = Make({Slack()});
  Open("schedule_missed:nightly", "critical");
  Run(*d);
  EXPECT_TRUE(receiver_.Requests(kSlackPath).empty()) << "sent before the grouping window closed";
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 1u);
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_THAT(body["text"].get<std::string>(), HasSubstr("schedule_missed:nightly"));
  ASSERT_TRUE(body["blocks"].is_array());
  ASSERT_GE(body["blocks"].size(), 2u);
  EXPECT_EQ(body["blocks"][1]["type"], "section");
  EXPECT_EQ(body["blocks"][1]["text"]["type"], "mrkdwn");
  EXPECT_THAT(body["blocks"][1]["text"]["text"].get<std::string>(), HasSubstr("*OPEN*"));

  // Seen again and again while open, for an hour: still one notification.
  for (int i = 0; i < 60; ++i) {
    clock_.AdvanceMillis(kMin);
    Open("schedule_missed:nightly", "critical");
    Run(*d);
  }
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 1u);

  Resolve("schedule_missed:nightly");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(reqs[1].body, HasSubstr("RESOLVED"));
  EXPECT_THAT(reqs[1].body, HasSubstr("seen 61 times"));
  for (int i = 0; i < 24; ++i) {
    clock_.AdvanceMillis(kHour);
    Run(*d);
  }
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 2u);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE status = 'sent'"), 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE event = 'open'"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE event = 'resolve'"), 1);

  // A new episode of the same key is a new incident: notified again.
  Open("schedule_missed:nightly", "critical");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 3u);
}

TEST_F(AlertsTest, StillOpenIncidentIsRepeatedOnlyAfterTheInterval) {
  AlertOptions o;
  o.repeat_after_ms = 4 * kHour;
  auto d = Make({Slack()}, o);
  Open("breaker_open:feed");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  const int64_t first_notice = clock_.NowMillis();
  // Just before the interval (plus the grouping window the reminder also waits for): nothing.
  while (clock_.NowMillis() < first_notice + 4 * kHour + 30 * kSec - kSec) {
    clock_.AdvanceMillis(10 * kMin);
    if (clock_.NowMillis() >= first_notice + 4 * kHour) clock_.SetMillis(first_notice + 4 * kHour + 29 * kSec);
    Run(*d);
  }
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  clock_.SetMillis(first_notice + 4 * kHour + 30 * kSec);
  Run(*d);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(reqs[1].body, HasSubstr("STILL OPEN"));
  EXPECT_THAT(reqs[1].body, HasSubstr("still open"));
  Run(*d);
  clock_.AdvanceMillis(kHour);
  Run(*d);
  EXPECT_EQ(receiver_.Requests(kSlackPath).size(), 2u);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE event = 'repeat'"), 1);

  Resolve("breaker_open:feed");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  clock_.AdvanceMillis(8 * kHour);
  Run(*d);
  reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_THAT(reqs[2].body, HasSubstr("RESOLVED"));
}

TEST_F(AlertsTest, IncidentsOpenedWithinTheWindowShareOneMessage) {
  auto d = Make({Slack()});
  for (int i = 0; i < 5; ++i) {
    Open("dead_letter:step" + std::to_string(i) + ":2024-02-01");
    Run(*d);
    clock_.AdvanceMillis(5 * kSec);
  }
  EXPECT_TRUE(receiver_.Requests(kSlackPath).empty());  // t0 + 25 s: the window of the first is open
  clock_.SetMillis(kT0 + 30 * kSec);
  Run(*d);
  auto reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_THAT(reqs[0].body, HasSubstr("dead_letter:step" + std::to_string(i)));
  EXPECT_THAT(reqs[0].body, HasSubstr("5 incidents opened"));
  auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["blocks"].size(), 6u);  // a title and one section per incident
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox"), 1);

  // One later, alone in its window: its own message.
  clock_.AdvanceMillis(2 * kMin);
  Open("dead_letter:late:2024-02-01");
  Run(*d);
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  reqs = receiver_.Requests(kSlackPath);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_THAT(reqs[1].body, HasSubstr("dead_letter:late"));
  EXPECT_THAT(reqs[1].body, Not(HasSubstr("dead_letter:step0")));
}

TEST_F(AlertsTest, RoutesBySeverityAndMixedEventsBecomeASummary) {
  AlertChannel critical_only = Hook();
  critical_only.min_severity = "critical";
  auto d = Make({Slack(), critical_only});
  Open("a:info", "info");
  Open("b:warning", "warning");
  Open("c:critical", "critical");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  ASSERT_EQ(receiver_.Requests(kHookPath).size(), 1u);
  auto hook = nlohmann::json::parse(receiver_.Requests(kHookPath)[0].body);
  ASSERT_EQ(hook["incidents"].size(), 1u);
  EXPECT_EQ(hook["incidents"][0]["key"], "c:critical");
  EXPECT_EQ(hook["severity"], "critical");

  // A resolve and an open in one window: one message of event "summary" on Slack; the critical
  // channel never heard of b:warning, so it hears nothing of its resolution either.
  Resolve("b:warning");
  Open("d:warning", "warning");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  auto slack = receiver_.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 2u);
  EXPECT_THAT(slack[1].body, HasSubstr("1 incident opened, 1 incident resolved"));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM alert_outbox WHERE channel = 'ops' AND event = 'summary'"), 1);
  EXPECT_EQ(receiver_.Requests(kHookPath).size(), 1u);
}

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

TEST_F(AlertsTest, UrlsAndSecretsNeverReachTheDatabaseOrTheLog) {
  const LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kDebug);
  AlertOptions o;
  o.group_window_ms = 0;
  AlertChannel refused = Slack("nowhere");
  refused.url = "http://127.0.0.1:1/services/T/B/refusedSecret";
  // Error bodies that echo the URL must be redacted too.
  const std::string slack_url = receiver_.Url(kSlackPath);
  receiver_.Script(kSlackPath, {{500, "", "bad " + slack_url}, {404, "", "gone " + std::string(kSlackPath)}});
  receiver_.Script(kHookPath, {{400, "", "rejected, key " + std::string(kHookSecret)}});
  ::testing::internal::CaptureStderr();
  auto d = Make({Slack(), Hook(), refused}, o);
  Open("u:1");
  Run(*d);
  clock_.AdvanceMillis(kMin);
  Run(*d);
  auto test = d->SendTest("nowhere");
  const std::string log = ::testing::internal::GetCapturedStderr();
  SetLogLevel(saved);
  ASSERT_TRUE(test.ok());
  EXPECT_FALSE(test->ok);
  EXPECT_EQ(ChannelState("ops"), "broken");
  const std::string db = DumpTables();
  EXPECT_THAT(log, HasSubstr("'ops'"));  // errors are reported by channel name
  EXPECT_THAT(db, HasSubstr("<ops>"));   // ... and the echoed URL was replaced by it
  for (const std::string& secret : {std::string("s3cr3tSlackToken"), std::string("pager-7f9c2d"),
                                    std::string(kHookSecret), std::string("refusedSecret"), slack_url}) {
    EXPECT_THAT(db, Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(log, Not(HasSubstr(secret))) << secret;
    EXPECT_THAT(test->error, Not(HasSubstr(secret)));
  }
}

TEST_F(AlertsTest, LogChannelAppendsOneJsonLinePerMessage) {
  AlertChannel file;
  file.name = "file";
  file.kind = AlertChannelKind::kLog;
  file.min_severity = "info";
  file.path = dir_.File("alerts.jsonl");
  file.rate_per_s = 0;
  auto d = Make({file});
  Open("v:1");
  Open("v:2", "critical");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  Resolve("v:1");
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  std::ifstream in(file.path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], "open");
  EXPECT_EQ(lines[0]["severity"], "critical");
  EXPECT_EQ(lines[0]["incidents"].size(), 2u);
  EXPECT_EQ(lines[1]["event"], "resolve");
  EXPECT_EQ(lines[1]["incidents"][0]["key"], "v:1");
  EXPECT_EQ(lines[1]["incidents"][0]["status"], "resolved");
}

// Announcements (the daily health summary): one message per channel whose min_severity the
// announcement meets, sent once however often it is announced.
TEST_F(AlertsTest, AnAnnouncementIsSentOnceToEachChannelItReaches) {
  AlertChannel pager = Hook();
  pager.min_severity = "critical";
  auto d = Make({Slack(), pager});
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) {
                  return Announce(t, "daily_health:2024-02-04", "warning", "daily health for 2024-02-04",
                                  i == 0 ? "games: 9 scheduled, 9 final" : "a second text is ignored",
                                  clock_.NowMillis());
                }).ok());
    Run(*d);
    clock_.AdvanceMillis(60 * kSec);
    Run(*d);
  }
  auto slack = receiver_.Requests(kSlackPath);
  ASSERT_EQ(slack.size(), 1u);
  auto body = nlohmann::json::parse(slack[0].body);
  EXPECT_EQ(body["text"], "daily health for 2024-02-04");
  EXPECT_NE(body.dump().find("games: 9 scheduled, 9 final"), std::string::npos) << body.dump();
  EXPECT_TRUE(receiver_.Requests(kHookPath).empty());  // a critical-only pager is not sent reports
  Status bad = store_->WithWrite([&](store::Transaction& t) {
    return Announce(t, "x", "loud", "t", "b", clock_.NowMillis());
  });
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
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

TEST_F(AlertsTest, PayloadsAreValidJsonWhateverTheText) {
  auto d = Make({Slack(), Hook()});
  const std::string summary = "quote \" back\\slash <tag> & amp\nnew line\ttab \x01 ctl, caf\xc3\xa9";
  ASSERT_TRUE(store_
                  ->WithWrite([&](store::Transaction& t) {
                    return OpenIncident(t, "odd:\"key\"", "critical", summary, "line1\nline2", clock_.NowMillis());
                  })
                  .ok());
  clock_.AdvanceMillis(30 * kSec);
  Run(*d);
  ASSERT_EQ(receiver_.Requests(kSlackPath).size(), 1u);
  ASSERT_EQ(receiver_.Requests(kHookPath).size(), 1u);
  auto slack = nlohmann::json::parse(receiver_.Requests(kSlackPath)[0].body);
  const std::string text = slack["blocks"][1]["text"]["text"];
  EXPECT_THAT(text, HasSubstr("&lt;tag&gt; &amp; amp\nnew line"));
  auto hook = nlohmann::json::parse(receiver_.Requests(kHookPath)[0].body);
  EXPECT_EQ(hook["incidents"][0]["summary"], summary);
  EXPECT_EQ(hook["incidents"][0]["key"], "odd:\"key\"");
}

TEST_F(AlertsTest, AlertsConfigIsValidatedAndSecretsComeFromEnvOrFile) {
  ::setenv("NBAPROPS_TEST_SLACK_URL", "https://hooks.example/services/T/B/zzz", 1);
  const std::string key = dir_.Write("hook.key", "k3y\n");
  ASSERT_EQ(::chmod(key.c_str(), 0600), 0);
  const std::string good = dir_.Write("good.toml", R"(
[alerts]
group_window_s = 10
repeat_after_s = 0
[[alerts.channels]]
name = "ops"
kind = "slack"
url_env = "NBAPROPS_TEST_SLACK_URL"
min_severity = "critical"
rate_per_s = 2
[[alerts.channels]]
name = "pager"
kind = "webhook"
url_env = "NBAPROPS_TEST_SLACK_URL"
secret_file = ")" + key + R"("
[[alerts.channels]]
name = "file"
kind = "log"
path = "alerts.jsonl"
)");
  auto c = LoadConfig(good);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->alerts.channels.size(), 3u);
  EXPECT_EQ(c->alerts.group_window_s, 10);
  EXPECT_EQ(c->alerts.repeat_after_s, 0);
  EXPECT_EQ(c->alerts.channels[0].url, "https://hooks.example/services/T/B/zzz");
  EXPECT_EQ(c->alerts.channels[0].rate_per_s, 2);
  EXPECT_EQ(c->alerts.channels[0].burst, 20);
  EXPECT_EQ(c->alerts.channels[1].secret, "k3y");
  EXPECT_EQ(c->alerts.channels[2].rate_per_s, 0);

  auto typo = LoadConfig(dir_.Write("typo.toml",
                                    "[[alerts.channels]]\nname = \"x\"\nkind = \"log\"\npath = \"p\"\n"
                                    "min_severty = \"info\"\n"));
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(typo.status().message(), HasSubstr("alerts.channels[0].min_severty"));

  auto unset = LoadConfig(dir_.Write("unset.toml",
                                     "[[alerts.channels]]\nname = \"x\"\nkind = \"slack\"\n"
                                     "url_env = \"NBAPROPS_TEST_UNSET_URL\"\n"));
  ASSERT_FALSE(unset.ok());
  EXPECT_THAT(unset.status().message(), HasSubstr("NBAPROPS_TEST_UNSET_URL"));

  ::setenv("NBAPROPS_TEST_BAD_URL", "ftp://secret-host/xyz", 1);
  auto bad = LoadConfig(dir_.Write("bad.toml",
                                   "[[alerts.channels]]\nname = \"x\"\nkind = \"slack\"\n"
                                   "url_env = \"NBAPROPS_TEST_BAD_URL\"\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), Not(HasSubstr("secret-host")));

  const std::string loose = dir_.Write("loose.key", "k");
  ASSERT_EQ(::chmod(loose.c_str(), 0644), 0);
  auto perm = LoadConfig(dir_.Write("perm.toml",
                                    "[[alerts.channels]]\nname = \"x\"\nkind = \"webhook\"\n"
                                    "url_env = \"NBAPROPS_TEST_SLACK_URL\"\nsecret_file = \"" +
                                        loose + "\"\n"));
  ASSERT_FALSE(perm.ok());
  EXPECT_THAT(perm.status().message(), HasSubstr("chmod 600"));
}

}  // namespace
}  // namespace nbaprops::engine
