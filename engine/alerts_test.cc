// Alerts: what is noticed and announced, grouping, routing by severity, message payloads and the
// configuration (fixture: engine/alerts_test_fixture.h).
#include "engine/alerts_test_fixture.h"

namespace nbaprops::engine::alerts_testing {
namespace {

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
}  // namespace nbaprops::engine::alerts_testing
