// The alert tests' fixture (engine/alerts_test.cc: noticing, grouping, routing, payloads;
// engine/alert_delivery_test.cc: delivery, failures, crashes): a REAL local webhook receiver
// (cpp-httplib on 127.0.0.1) reached through the real libcurl client, a real SQLite file and a
// fake clock. Nothing waits for time to pass: every "later" is FakeClock::AdvanceMillis.
#ifndef NBAPROPS_ENGINE_ALERTS_TEST_FIXTURE_H_
#define NBAPROPS_ENGINE_ALERTS_TEST_FIXTURE_H_

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

namespace nbaprops::engine::alerts_testing {

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
    return nbaprops::testing::ReadValue<std::optional<Incident>>(
        *store_, [&](store::Transaction& t) { return GetOpenIncident(t, key); });
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

}  // namespace nbaprops::engine::alerts_testing

#endif  // NBAPROPS_ENGINE_ALERTS_TEST_FIXTURE_H_
