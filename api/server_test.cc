// The HTTP API end to end: a real server on 127.0.0.1 (any free port), a real SQLite file seeded
// through the engine (runs, a dead letter, incidents, a breaker, deadlines), real export files,
// and a real HTTP client. /metrics is read by a strict Prometheus text-format parser
// (api/prom_text_parser.h).
#include "api/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "api/export_cache.h"
#include "api/metrics.h"
#include "api/prom_text_parser.h"
#include "base/clock.h"
#include "base/file.h"
#include "base/strings.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "engine/queue.h"
#include "pipeline/pipeline.h"
#include "store/migrations.h"
#include "tests/test_util.h"

namespace nbaprops::api {
namespace {

using nbaprops::api::prom_text::ParseProm;
using nbaprops::api::prom_text::PromText;
using nbaprops::testing::Count;
using nbaprops::testing::TempDir;
using nlohmann::json;

constexpr int64_t kNowMs = 1'706'745'600'000;  // 2024-02-01T00:00:00Z
constexpr char kToken[] = "test-token-0123456789";
constexpr char kDate[] = "2024-01-31";

TEST(PromParserTest, RejectsWhatTheFormatForbids) {
  EXPECT_TRUE(ParseProm("# HELP a x\n# TYPE a gauge\na 1\n").errors.empty());
  EXPECT_FALSE(ParseProm("a 1\n").errors.empty());                                  // no TYPE
  EXPECT_FALSE(ParseProm("# TYPE a gauge\na{b=\"x\\q\"} 1\n").errors.empty());      // bad escape
  EXPECT_FALSE(ParseProm("# TYPE a gauge\na{0b=\"x\"} 1\n").errors.empty());        // label name
  EXPECT_FALSE(ParseProm("# TYPE 1a gauge\n").errors.empty());                      // metric name
  EXPECT_FALSE(ParseProm("# TYPE a gauge\na 1\na 2\n").errors.empty());             // duplicate
  EXPECT_FALSE(ParseProm("# TYPE a gauge\n# TYPE b gauge\na 1\n").errors.empty());  // outside block
  EXPECT_FALSE(ParseProm("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n")
                   .errors.empty());  // +Inf != count
  EXPECT_FALSE(ParseProm("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n")
                   .errors.empty());  // not cumulative
  EXPECT_TRUE(ParseProm("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 3\nh_sum 1e+03\nh_count 3\n")
                  .errors.empty());
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

// ---------------------------------------------------------------------------------------------

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = nbaprops::testing::OpenTestStore(dir_.File("api.db"));
    auto runner = pipeline::MakeRunner(*store_, clock_, nbaprops::testing::SmallFixtureConfig());
    ASSERT_TRUE(runner.ok()) << runner.status().ToString();
    runner_ = std::move(runner).value();
    Seed();
    StartServer(kToken);
  }
  void TearDown() override {
    client_.reset();  // closes the keep-alive connection, so Stop() need not wait for it
    if (server_) server_->Stop();
  }

  void StartServer(const std::string& token) {
    client_.reset();
    if (server_) server_->Stop();
    ApiServerOptions o;
    o.export_dir = dir_.File("exports");
    o.token = token;
    o.threads = 4;
    server_ = std::make_unique<ApiServer>(*runner_, o);
    auto port = server_->Start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_tcp_nodelay(true);
    client_->set_keep_alive(true);  // one connection: requests are served (and counted) in order
    client_->set_read_timeout(30, 0);
  }

  void Exec(const std::string& sql, const store::Params& params = {}) {
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) { return t.Exec(sql, params).status(); }).ok()) << sql;
  }

  // A run of `processor` for the date in `status`, finished with `duration_ms`.
  int64_t SeedRun(const std::string& processor, int phase, const std::string& date, const std::string& status,
                  int64_t duration_ms, const std::string& trigger = "backfill", const std::string& category = "") {
    int64_t id = 0;
    EXPECT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) -> Status {
                      engine::RunStart s{processor, phase, date, date, trigger, std::nullopt, 1, 0, std::nullopt};
                      ASSIGN_OR_RETURN(id, engine::Ledger::Enqueue(t, s, kNowMs / 1000 - 600));
                      if (status == "queued") return OkStatus();
                      return t
                          .Exec(
                              "UPDATE processor_runs SET status = ?, started_at = ?, finished_at = ?, duration_ms = ?, "
                              "error_category = ? WHERE run_id = ?",
                              {status, kNowMs / 1000 - 500, kNowMs / 1000 - 400, duration_ms,
                               category.empty() ? store::Param() : store::Param(category), id})
                          .status();
                    })
                    .ok());
    return id;
  }

  // A run that failed with bad input: dead at once, with a dead letter and its incident.
  int64_t SeedDeadLetter(const std::string& processor, int phase, const std::string& date) {
    int64_t run_id = 0;
    EXPECT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) -> Status {
                      engine::RunStart s{processor, phase, date, date, "backfill", std::nullopt, 1, 0, std::nullopt};
                      ASSIGN_OR_RETURN(run_id, engine::Ledger::Enqueue(t, s, kNowMs / 1000 - 300));
                      ASSIGN_OR_RETURN(auto claimed,
                                       engine::Queue::ClaimRun(t, run_id, "test-worker", kNowMs - 200'000, 30'000, 7));
                      engine::FailureInfo f;
                      f.category = engine::FailureCategory::kBadInput;
                      f.message = "row 7: minutes 'abc' is not a number";
                      return engine::Queue::ApplyFailure(t, claimed.run, f, kNowMs - 190'000, engine::RetryPolicy{},
                                                         0.5);
                    })
                    .ok());
    return Count(*store_, "SELECT MAX(id) FROM dead_letters WHERE run_id = " + std::to_string(run_id));
  }

  void Seed() {
    // Runs of the date: phase 3 succeeded, one failed attempt, a dead letter, queued work.
    for (const char* p : {"player_game_summary", "team_offense_game_summary", "team_defense_game_summary"}) {
      SeedRun(p, 3, kDate, "succeeded", 120);
    }
    SeedRun("player_game_summary", 3, "2024-01-30", "succeeded", 4'000);
    failed_run_ = SeedRun("ml_feature_store", 4, kDate, "failed", 30, "backfill", "source_unavailable");
    SeedRun("ml_feature_store", 4, "2024-01-30", "failed", 45'000, "retry", "lease_expired");
    SeedRun("player_daily_cache", 4, "2024-01-30", "succeeded", 15);
    succeeded_run_ = Count(*store_, "SELECT MIN(run_id) FROM processor_runs");
    dead_letter_ = SeedDeadLetter("player_prop_predictions", 5, kDate);
    second_dead_letter_ = SeedDeadLetter("export_predictions", 6, kDate);
    SeedRun("prediction_accuracy", 5, "2024-01-29", "queued", 0);
    Exec("UPDATE processor_runs SET not_before = ? WHERE status = 'queued'", {kNowMs + 3'600'000});
    SeedRun("player_game_summary", 3, "2024-02-01", "queued", 0);

    // Incidents: one from a rule, a broken alert channel, a resolved one.
    ASSERT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) -> Status {
                      RETURN_IF_ERROR(engine::OpenIncident(t, "deadline_missed:predictions:2024-01-31", "critical",
                                                           "predictions for 2024-01-31 missed \"their\" <deadline>",
                                                           "{}", kNowMs - 60'000));
                      RETURN_IF_ERROR(engine::OpenIncident(t, "alert_channel_broken:slack-ops", "critical",
                                                           "slack-ops answered 404: the webhook is gone", "", kNowMs));
                      RETURN_IF_ERROR(
                          engine::OpenIncident(t, "schedule_missed:old", "warning", "old", "", kNowMs - 9'000'000));
                      return engine::ResolveIncident(t, "schedule_missed:old", kNowMs - 8'000'000);
                    })
                    .ok());
    Exec(
        "INSERT INTO circuit_breakers (source, state, consecutive_failures, times_opened, opened_at, next_probe_at, "
        "last_error, last_change_at) VALUES ('odds_api', 'open', 5, 2, ?, ?, 'HTTP 503', ?)",
        {kNowMs - 60'000, kNowMs + 60'000, kNowMs - 60'000});
    Exec(
        "INSERT INTO deadlines (deadline_key, data_date, due_at, status, met_at, checked_at, details) VALUES "
        "('results_latency', '2024-01-30', ?, 'met', ?, ?, ?), ('predictions', '2024-01-31', ?, 'missed', NULL, ?, "
        "'{\"summary\": \"predictions for 2024-01-31 missed\"}')",
        {kNowMs - 80'000'000, kNowMs - 90'000'000, kNowMs,
         "{\"latency_box_score_to_graded_s\": 1800, \"latency_box_score_to_exported_s\": 2100}", kNowMs - 3'600'000,
         kNowMs});
    Exec(
        "INSERT INTO prediction_performance_daily (game_date, system_id, predictions, picks, wins, losses, pushes, "
        "voids, not_graded, units, n_mae, mae_model, mae_line, n_clv) VALUES ('2024-01-29', 'ensemble', 100, 10, 6, "
        "4, 0, 0, 90, 1.5, 10, 5.0, 4.0, 0), ('2024-01-30', 'ensemble', 100, 8, 3, 5, 0, 0, 92, -2.2, 8, 6.0, 5.5, 0)");
    Exec(
        "INSERT INTO unresolved_player_names (source, original_name, normalized, occurrences, example_games, reason, "
        "status, first_seen, last_seen) VALUES ('underdog', 'Nic Claxton', 'nic claxton', 12, '[]', 'no player "
        "matches', 'pending', 1, 1)");
    Exec(
        "INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1629651', 'Nicolas Claxton', "
        "'test')");

    // Exported documents, as pipeline/export.cc lays them out.
    const std::string ex = dir_.File("exports");
    docs_["predictions/2024-01-31.json"] = "{\"schema\": \"nbaprops/predictions/v1\", \"date\": \"2024-01-31\"}\n";
    docs_["predictions/today.json"] = "{\"schema\": \"nbaprops/predictions/v1\", \"date\": \"2024-02-01\"}\n";
    docs_["best-bets/today.json"] = "{\"schema\": \"nbaprops/best-bets/v1\", \"picks\": []}\n";
    docs_["best-bets/2024-01-31.json"] = "{\"schema\": \"nbaprops/best-bets/v1\", \"date\": \"2024-01-31\"}\n";
    docs_["results/2024-01-31.json"] = "{\"schema\": \"nbaprops/results/v1\", \"date\": \"2024-01-31\"}\n";
    docs_["systems/performance.json"] = "{\"schema\": \"nbaprops/performance/v1\"}\n";
    docs_["status.json"] = "{\"schema\": \"nbaprops/status/v1\"}\n";
    for (const auto& [rel, body] : docs_) {
      std::filesystem::create_directories(std::filesystem::path(ex + "/" + rel).parent_path());
      ASSERT_TRUE(WriteFileAtomic(ex + "/" + rel, body).ok());
    }
  }

  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }
  httplib::Result Post(const std::string& path, const std::string& body = "", const std::string& token = kToken) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return client_->Post(path.c_str(), h, body, "application/json");
  }
  static json Json(const httplib::Result& r) {
    json j = json::parse(r->body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r->body;
    return j;
  }
  // The state a refused mutation must leave untouched.
  std::string Snapshot() {
    std::string out;
    EXPECT_TRUE(
        store_
            ->WithRead([&](store::Transaction& t) {
              return t.Query(
                  "SELECT 'run', run_id, status, trigger FROM processor_runs UNION ALL SELECT 'dl', id, status, "
                  "category FROM dead_letters UNION ALL SELECT 'alias', 0, player_id, alias FROM "
                  "reference_player_aliases UNION ALL SELECT 'incident', id, status, incident_key FROM incidents "
                  "ORDER BY 1, 2",
                  {}, [&](const store::Row& r) {
                    for (int i = 0; i < r.size(); ++i) out += r.Text(i) + "|";
                    out += "\n";
                    return OkStatus();
                  });
            })
            .ok());
    return out;
  }

  TempDir dir_;
  FakeClock clock_{kNowMs};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Runner> runner_;
  std::unique_ptr<ApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
  int port_ = 0;
  int64_t failed_run_ = 0, succeeded_run_ = 0, dead_letter_ = 0, second_dead_letter_ = 0;
  std::map<std::string, std::string> docs_;
};

TEST_F(ServerTest, HealthAndReady) {
  auto h = Get("/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(Json(h)["status"], "ok");
  auto r = Get("/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["ready"], true);
  EXPECT_EQ(Json(r)["schema_version"], store::LatestSchemaVersion());
}

TEST(ServerReadyTest, NotReadyWhileMigrationsAreMissing) {
  TempDir dir;
  auto store = store::OpenStore(dir.File("bare.db"));
  ASSERT_TRUE(store.ok());
  FakeClock clock(kNowMs);
  engine::Runner runner(**store, clock);
  ApiServer server(runner, {});
  auto port = server.Start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  httplib::Client c("127.0.0.1", *port);
  auto r = c.Get("/ready");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("schema version 0 of"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("nbaprops init"), std::string::npos) << r->body;
  EXPECT_EQ(c.Get("/health")->status, 200);  // alive all the same
  // /metrics still answers, saying the store is not usable.
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  PromText p = ParseProm(m->body);
  EXPECT_TRUE(p.errors.empty()) << Join(p.errors, "\n");
  EXPECT_FALSE(p.Value("nbaprops_runs").has_value());

  // Migrated, the same server is ready.
  ASSERT_TRUE(store::Migrate(**store).ok());
  EXPECT_EQ(c.Get("/ready")->status, 200);
}

TEST_F(ServerTest, ServesExportedDocumentsAndRefreshesWhenTheFileChanges) {
  for (const auto& [rel, body] : docs_) {
    auto r = Get("/v1/" + rel);
    ASSERT_TRUE(r) << rel;
    EXPECT_EQ(r->status, 200) << rel << ": " << r->body;
    EXPECT_EQ(r->body, body) << rel;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << rel;
  }
  // A new export (atomic rename) is served on the next request.
  const std::string fresh = "{\"schema\": \"nbaprops/predictions/v1\", \"date\": \"2024-02-01\", \"v\": 2}\n";
  ASSERT_TRUE(WriteFileAtomic(dir_.File("exports/predictions/today.json"), fresh).ok());
  EXPECT_EQ(Get("/v1/predictions/today.json")->body, fresh);
  // A removed document is not served from memory.
  std::filesystem::remove(dir_.File("exports/best-bets/today.json"));
  EXPECT_EQ(Get("/v1/best-bets/today.json")->status, 404);
}

TEST_F(ServerTest, UnknownDatesAndPathsAre404AndMalformedOnes400) {
  for (const char* path : {"/v1/predictions/2023-01-01.json", "/v1/results/2024-02-01.json",
                           "/v1/best-bets/2022-10-10.json", "/v1/nothing", "/v2/predictions/today.json",
                           "/v1/runs/999999", "/favicon.ico", "/v1/predictions/..%2Fstatus.json"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_TRUE(Json(r).contains("error")) << path << ": " << r->body;
  }
  EXPECT_NE(Get("/v1/predictions/2023-01-01.json")->body.find("nbaprops export --date 2023-01-01"), std::string::npos);
  for (const char* path : {"/v1/predictions/2024-13-01.json", "/v1/results/today.json", "/v1/runs?limit=0",
                           "/v1/runs?limit=x", "/v1/runs?status=exploded", "/v1/runs?date=31-01-2024",
                           "/v1/dlq?status=maybe", "/v1/incidents?status=closed"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << ": " << r->body;
    EXPECT_TRUE(Json(r).contains("error")) << path;
  }
  // GET on a mutating route does not exist.
  EXPECT_EQ(Get("/v1/dlq/1/retry")->status, 404);
}

TEST_F(ServerTest, RunsDeadLettersAndIncidents) {
  auto all = Json(Get("/v1/runs?limit=1000"));
  EXPECT_EQ(static_cast<int64_t>(all.size()), Count(*store_, "SELECT COUNT(*) FROM processor_runs"));
  auto dead = Json(Get("/v1/runs?status=dead"));
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0]["error_category"], "bad_input");
  auto one = Json(Get("/v1/runs?limit=1&processor=ml_feature_store&date=2024-01-31"));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["run_id"], failed_run_);
  auto run = Get("/v1/runs/" + std::to_string(failed_run_));
  ASSERT_EQ(run->status, 200);
  EXPECT_EQ(Json(run)["status"], "failed");

  auto dlq = Json(Get("/v1/dlq"));
  ASSERT_EQ(dlq.size(), 2u);
  EXPECT_EQ(dlq[1]["id"], dead_letter_);
  EXPECT_EQ(dlq[1]["processor"], "player_prop_predictions");
  EXPECT_EQ(dlq[1]["category"], "bad_input");
  EXPECT_EQ(dlq[1]["error"], "row 7: minutes 'abc' is not a number");
  EXPECT_FALSE(dlq[1]["suggested_action"].get<std::string>().empty());
  EXPECT_EQ(Json(Get("/v1/dlq?status=discarded")).size(), 0u);

  auto open = Json(Get("/v1/incidents"));
  std::set<std::string> keys;
  for (const auto& i : open) keys.insert(i["key"].get<std::string>());
  EXPECT_TRUE(keys.count("deadline_missed:predictions:2024-01-31"));
  EXPECT_TRUE(keys.count("alert_channel_broken:slack-ops"));
  EXPECT_TRUE(keys.count("dead_letter:player_prop_predictions:2024-01-31"));
  EXPECT_FALSE(keys.count("schedule_missed:old"));
  auto every = Json(Get("/v1/incidents?status=all"));
  EXPECT_EQ(every.size(), open.size() + 1);
}

TEST_F(ServerTest, MutationsWithoutTheRightTokenAre401AndChangeNothing) {
  const std::string before = Snapshot();
  const std::vector<std::pair<std::string, std::string>> mutations = {
      {"/v1/runs/" + std::to_string(failed_run_) + "/retry", ""},
      {"/v1/dlq/" + std::to_string(dead_letter_) + "/retry", ""},
      {"/v1/dlq/" + std::to_string(dead_letter_) + "/discard", ""},
      {"/v1/registry/aliases", "{\"name\": \"Nic Claxton\", \"player_id\": \"1629651\"}"}};
  for (const auto& [path, body] : mutations) {
    for (const std::string& token :
         std::vector<std::string>{"", "wrong-token", std::string(kToken) + "x", std::string(kToken).substr(1)}) {
      auto r = Post(path, body, token);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path << " with token '" << token << "': " << r->body;
      EXPECT_TRUE(Json(r).contains("error"));
      EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer realm=\"nbaprops\"");
      EXPECT_EQ(r->body.find(kToken), std::string::npos);  // the secret is never echoed
    }
    // Not a bearer scheme at all.
    httplib::Headers basic = {{"Authorization", std::string("Basic ") + kToken}};
    EXPECT_EQ(client_->Post(path.c_str(), basic, body, "application/json")->status, 401);
  }
  EXPECT_EQ(Snapshot(), before);

  // A server without a configured token refuses every mutation, whatever is sent.
  StartServer("");
  for (const auto& [path, body] : mutations) {
    for (const std::string token : {"", kToken, " "}) {
      EXPECT_EQ(Post(path, body, token)->status, 401) << path;
    }
  }
  EXPECT_NE(Post(mutations[0].first, "", kToken)->body.find("NBAPROPS_HTTP_TOKEN"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);
}

// A request exactly as written, on a fresh connection: what the server answers before (or
// without) reading a body. Returns the first response (head and its Content-Length of body), or
// what arrived before the server closed or 5 s passed.
std::string RawExchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) {
      response.append(buf, static_cast<size_t>(n));
      const size_t head_end = response.find("\r\n\r\n");
      if (head_end == std::string::npos) continue;
      static const std::regex kLength("\r\nContent-Length: (\\d+)\r\n", std::regex::icase);
      std::smatch m;
      const std::string head = response.substr(0, head_end + 2);
      const size_t body = std::regex_search(head, m, kLength) ? std::stoul(m[1].str()) : 0;
      if (response.size() >= head_end + 4 + body) break;
    }
  }
  ::close(fd);
  return response;
}

TEST_F(ServerTest, MutationsAre401BeforeAnyOtherCheck) {
  const std::string before = Snapshot();
  const std::string dlq = "/v1/dlq/" + std::to_string(dead_letter_) + "/retry";
  // Each would be a 400, 404, 405 or 413 with the token; without it, each is a 401, answered
  // without waiting for a body the request announces but never sends.
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"no Content-Length", "POST " + dlq + " HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"announced body never sent", "POST " + dlq + " HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n"},
      {"over the size limit", "POST /v1/registry/aliases HTTP/1.1\r\nHost: t\r\nContent-Length: 900000000\r\n\r\n"},
      {"malformed JSON", "POST /v1/registry/aliases HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n{nope"},
      {"chunked", "POST " + dlq + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"},
      {"100-continue", "POST " + dlq + " HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"},
      {"bad id", "POST /v1/runs/x/retry HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"},
      {"unknown route", "POST /v1/nothing HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"},
      {"PUT", "PUT /v1/runs/1 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n"},
      {"DELETE", "DELETE " + dlq + " HTTP/1.1\r\nHost: t\r\n\r\n"},
      {"wrong token, no length", "POST " + dlq + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer nope\r\n\r\n"},
  };
  for (const auto& [what, request] : requests) {
    const std::string response = RawExchange(port_, request);
    EXPECT_EQ(response.rfind("HTTP/1.1 401", 0), 0u) << what << ":\n" << response;
    EXPECT_NE(response.find("WWW-Authenticate: Bearer"), std::string::npos) << what;
    EXPECT_NE(response.find("Connection: close"), std::string::npos) << what;
  }
  EXPECT_EQ(Snapshot(), before);

  // With the token the same requests get the checks they were spared: here a 411 at once that
  // says what to send, and a 404 for a route that does not exist.
  const std::string auth = std::string("Authorization: Bearer ") + kToken + "\r\n";
  std::string r = RawExchange(port_, "POST " + dlq + " HTTP/1.1\r\nHost: t\r\n" + auth + "\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 411", 0), 0u) << r;
  EXPECT_NE(r.find("Content-Length"), std::string::npos) << r;
  r = RawExchange(port_, "POST /v1/nothing HTTP/1.1\r\nHost: t\r\n" + auth + "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 404", 0), 0u) << r;
  EXPECT_EQ(Snapshot(), before);
  // Reads need no token.
  EXPECT_EQ(RawExchange(port_, "GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 200", 0),
            0u);
}

TEST_F(ServerTest, RetryARunWithTheToken) {
  auto r = Post("/v1/runs/" + std::to_string(failed_run_) + "/retry");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const int64_t queued = Json(r)["queued_run_id"];
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(queued) +
                               " AND status = 'queued' AND trigger = 'manual' AND attempt = 1 AND caused_by_run_id = " +
                               std::to_string(failed_run_) +
                               " AND processor = 'ml_feature_store' AND partition_key = "
                               "'2024-01-31'"),
            1);
  // Its partition now has a live run: a second retry is a conflict, and changes nothing.
  const std::string before = Snapshot();
  auto again = Post("/v1/runs/" + std::to_string(failed_run_) + "/retry");
  EXPECT_EQ(again->status, 409) << again->body;
  EXPECT_NE(again->body.find(std::to_string(queued)), std::string::npos);
  EXPECT_EQ(Post("/v1/runs/" + std::to_string(succeeded_run_) + "/retry")->status, 409);
  EXPECT_EQ(Post("/v1/runs/424242/retry")->status, 404);
  EXPECT_EQ(Snapshot(), before);

  // A dead run retries its open dead letter.
  const int64_t dead_run = Count(*store_, "SELECT run_id FROM dead_letters WHERE id = " + std::to_string(dead_letter_));
  auto d = Post("/v1/runs/" + std::to_string(dead_run) + "/retry");
  ASSERT_EQ(d->status, 200) << d->body;
  EXPECT_EQ(Json(d)["dead_letter_id"], dead_letter_);
  EXPECT_EQ(Count(*store_, "SELECT status = 'retried' FROM dead_letters WHERE id = " + std::to_string(dead_letter_)),
            1);
}

TEST_F(ServerTest, RetryAndDiscardDeadLettersWithTheToken) {
  auto r = Post("/v1/dlq/" + std::to_string(dead_letter_) + "/retry");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json(r)["status"], "retried");
  const int64_t queued = Json(r)["queued_run_id"];
  EXPECT_EQ(Count(*store_, "SELECT status = 'retried' FROM dead_letters WHERE id = " + std::to_string(dead_letter_)),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(queued) +
                               " AND status = 'queued' AND processor = 'player_prop_predictions'"),
            1);
  EXPECT_EQ(Post("/v1/dlq/" + std::to_string(dead_letter_) + "/retry")->status, 409);  // already retried
  EXPECT_EQ(Post("/v1/dlq/" + std::to_string(dead_letter_) + "/discard")->status, 409);

  auto x = Post("/v1/dlq/" + std::to_string(second_dead_letter_) + "/discard");
  ASSERT_EQ(x->status, 200) << x->body;
  EXPECT_EQ(Json(x)["status"], "discarded");
  EXPECT_EQ(
      Count(*store_, "SELECT status = 'discarded' FROM dead_letters WHERE id = " + std::to_string(second_dead_letter_)),
      1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM incidents WHERE status = 'open' AND incident_key = "
                  "'dead_letter:export_predictions:2024-01-31'"),
            0);
  EXPECT_EQ(Post("/v1/dlq/999/retry")->status, 404);
  EXPECT_EQ(Post("/v1/dlq/999/discard")->status, 404);
}

TEST_F(ServerTest, RegistryAliasWithTheToken) {
  Exec("UPDATE processor_runs SET status = 'skipped' WHERE status = 'queued'");
  Exec(
      "INSERT INTO raw_player_props (captured_at, game_date, name_key, player_name, sportsbook, market, line, source, "
      "payload_id) VALUES (1, '2024-01-31', 'nic claxton', 'Nic Claxton', 'underdog', 'points', 9.5, 'underdog', 1)");
  // Answered at once: the affected dates are queued for the workers, nothing runs in the request.
  auto r = Post("/v1/registry/aliases", "{\"name\": \"Nic Claxton\", \"player_id\": \"1629651\"}");
  ASSERT_EQ(r->status, 202) << r->body;
  const auto body = Json(r);
  EXPECT_EQ(body["canonical_name"], "Nicolas Claxton");
  EXPECT_EQ(body["status"], "queued");
  const auto& ids = body["queued_run_ids"];
  EXPECT_EQ(body["requeued_dates"], json::array({"2024-01-31"}));
  EXPECT_EQ(ids.size(), 5u) << r->body;  // the date's five phase-3 processors
  for (const auto& id : ids) {
    EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND run_id = " +
                                 std::to_string(id.get<int64_t>())),
              1);
  }
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status IN ('running', 'succeeded') AND "
                  "trigger = 'manual'"),
            0);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM reference_player_aliases WHERE player_id = '1629651' AND alias = "
                  "'Nic Claxton'"),
            1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'resolved' AND "
                  "resolved_player_id = '1629651'"),
            1);
  auto unknown = Post("/v1/registry/aliases", "{\"name\": \"Nobody\", \"player_id\": \"0\"}");
  EXPECT_EQ(unknown->status, 404) << unknown->body;
  EXPECT_NE(unknown->body.find("registry players"), std::string::npos);
  for (const char* bad : {"", "not json", "[]", "{\"name\": \"x\"}", "{\"name\": 3, \"player_id\": \"1629651\"}"}) {
    auto b = Post("/v1/registry/aliases", bad);
    EXPECT_EQ(b->status, 400) << bad << ": " << b->body;
  }
}

TEST_F(ServerTest, MetricsAreStrictPrometheusTextWithTheSeededNumbers) {
  // Alert delivery rows, when the alert tables exist (another part creates them).
  const bool alert_tables = Count(*store_,
                                  "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('alert_outbox', "
                                  "'alert_channels')") == 2;
  if (alert_tables) {
    Exec(
        "INSERT INTO alert_channels (name, kind, state, tokens, tokens_at, created_at) VALUES ('slack-ops', 'slack', "
        "'broken', 0, 0, 0), ('log', 'log', 'ok', 0, 0, 0)");
    Exec(
        "INSERT INTO alert_outbox (channel, incident_ids, event, severity, payload, status, attempts, "
        "next_attempt_at, created_at) VALUES ('slack-ops', '[1]', 'open', 'critical', '{}', 'dead', 3, 0, 0), "
        "('log', '[1]', 'open', 'critical', '{}', 'sent', 1, 0, 0), ('log', '[2]', 'open', 'warning', '{}', 'sent', "
        "2, 0, 0)");
  }
  Get("/health");
  Get("/v1/nothing");
  auto r = Get("/metrics");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  PromText p = ParseProm(r->body);
  ASSERT_TRUE(p.errors.empty()) << Join(p.errors, "\n") << "\n" << r->body;

  EXPECT_EQ(p.Value("nbaprops_store_up"), 1);
  EXPECT_EQ(p.Value("nbaprops_runs", {{"processor", "player_game_summary"}, {"status", "succeeded"}}), 2);
  EXPECT_EQ(p.Value("nbaprops_runs", {{"processor", "ml_feature_store"}, {"status", "failed"}}), 2);
  EXPECT_EQ(p.Value("nbaprops_runs", {{"processor", "player_prop_predictions"}, {"status", "dead"}}), 1);
  EXPECT_EQ(p.types["nbaprops_run_duration_seconds"], "histogram");
  EXPECT_EQ(p.Value("nbaprops_run_duration_seconds_count", {{"processor", "player_game_summary"}}), 2);
  EXPECT_EQ(p.Value("nbaprops_run_duration_seconds_bucket", {{"processor", "player_game_summary"}, {"le", "0.25"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_run_duration_seconds_bucket", {{"processor", "player_game_summary"}, {"le", "5"}}), 2);
  EXPECT_DOUBLE_EQ(*p.Value("nbaprops_run_duration_seconds_sum", {{"processor", "player_game_summary"}}), 4.12);
  EXPECT_EQ(p.Value("nbaprops_queue_depth", {{"state", "runnable"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_queue_depth", {{"state", "waiting"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_lease_expiries_total", {{"processor", "ml_feature_store"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_retries_total", {{"processor", "ml_feature_store"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_dead_letters", {{"processor", "player_prop_predictions"}, {"status", "open"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_incidents_open", {{"severity", "critical"}}), 2);
  EXPECT_EQ(p.Value("nbaprops_incidents_open_by_kind", {{"kind", "deadline_missed"}, {"severity", "critical"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_incidents_open_by_kind", {{"kind", "alert_channel_broken"}, {"severity", "critical"}}),
            1);
  EXPECT_FALSE(p.Value("nbaprops_incidents_open_by_kind", {{"kind", "schedule_missed"}}));  // resolved
  EXPECT_EQ(p.Value("nbaprops_running_lease_overdue"), 0);
  // The model against the line over its latest graded dates: 9-9, MAE (10*5 + 8*6)/18 vs the
  // line's (10*4 + 8*5.5)/18.
  EXPECT_EQ(p.Value("nbaprops_model_picks_graded", {{"system", "ensemble"}}), 18);
  EXPECT_DOUBLE_EQ(*p.Value("nbaprops_model_hit_rate", {{"system", "ensemble"}}), 0.5);
  EXPECT_DOUBLE_EQ(*p.Value("nbaprops_model_mae_points", {{"system", "ensemble"}}), 98.0 / 18);
  EXPECT_DOUBLE_EQ(*p.Value("nbaprops_model_line_mae_points", {{"system", "ensemble"}}), 84.0 / 18);
  EXPECT_EQ(p.Value("nbaprops_alert_channels_broken_incidents"), 1);
  EXPECT_EQ(p.Value("nbaprops_circuit_breaker_state", {{"source", "odds_api"}, {"state", "open"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_circuit_breaker_state", {{"source", "odds_api"}, {"state", "closed"}}), 0);
  EXPECT_EQ(p.Value("nbaprops_circuit_breaker_opened_total", {{"source", "odds_api"}}), 2);
  EXPECT_EQ(p.Value("nbaprops_deadlines", {{"deadline", "predictions"}, {"status", "missed"}}), 1);
  EXPECT_EQ(
      p.Value("nbaprops_deadline_unmet_due_timestamp_seconds", {{"deadline", "predictions"}, {"date", "2024-01-31"}}),
      (kNowMs - 3'600'000) / 1000);
  EXPECT_EQ(p.Value("nbaprops_results_latency_seconds_count"), 1);
  EXPECT_EQ(p.Value("nbaprops_results_latency_seconds_bucket", {{"le", "1800"}}), 0);
  EXPECT_EQ(p.Value("nbaprops_results_latency_seconds_bucket", {{"le", "3600"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_results_latency_last_seconds"), 2100);
  EXPECT_EQ(p.Value("nbaprops_phase_last_success_timestamp_seconds", {{"phase", "3"}}), kNowMs / 1000 - 400);
  EXPECT_EQ(p.Value("nbaprops_unresolved_player_names", {{"status", "pending"}}), 1);
  EXPECT_TRUE(p.Value("nbaprops_export_generated_timestamp_seconds", {{"document", "predictions/today.json"}}));
  EXPECT_EQ(p.Value("nbaprops_http_requests_total", {{"route", "/health"}, {"code", "200"}}), 1);
  EXPECT_EQ(p.Value("nbaprops_http_requests_total", {{"route", "other"}, {"code", "404"}}), 1);
  if (alert_tables) {
    EXPECT_EQ(p.Value("nbaprops_alert_messages", {{"channel", "log"}, {"status", "sent"}}), 2);
    EXPECT_EQ(p.Value("nbaprops_alert_delivery_attempts_total", {{"channel", "log"}}), 3);
    EXPECT_EQ(p.Value("nbaprops_alert_delivery_failures_total", {{"channel", "log"}}), 1);
    EXPECT_EQ(p.Value("nbaprops_alert_delivery_failures_total", {{"channel", "slack-ops"}}), 3);
    EXPECT_EQ(p.Value("nbaprops_alert_channel_broken", {{"channel", "slack-ops"}}), 1);
  }

  // A run left running past its lease (its worker died, and no process has reaped it yet) is stuck.
  Exec("UPDATE processor_runs SET status = 'running', lease_expires_at = ? WHERE processor = 'prediction_accuracy'",
       {kNowMs - 1});
  EXPECT_EQ(ParseProm(Get("/metrics")->body).Value("nbaprops_running_lease_overdue"), 1);

  // Without the alert tables (a database from before them) the alert families are left out and
  // everything else is still there.
  Exec("DROP TABLE IF EXISTS alert_outbox");
  Exec("DROP TABLE IF EXISTS alert_channels");
  auto without = Get("/metrics");
  ASSERT_EQ(without->status, 200);
  PromText q = ParseProm(without->body);
  ASSERT_TRUE(q.errors.empty()) << Join(q.errors, "\n");
  EXPECT_FALSE(q.types.count("nbaprops_alert_messages"));
  EXPECT_EQ(q.Value("nbaprops_runs", {{"processor", "player_game_summary"}, {"status", "succeeded"}}), 2);
  EXPECT_EQ(q.Value("nbaprops_alert_channels_broken_incidents"), 1);
}

TEST_F(ServerTest, MetricsEscapeLabelValues) {
  Exec("INSERT INTO circuit_breakers (source, state, last_change_at) VALUES (?, 'closed', 0)",
       {std::string("we\"ird\\source\nname")});
  PromText p = ParseProm(Get("/metrics")->body);
  ASSERT_TRUE(p.errors.empty()) << Join(p.errors, "\n");
  EXPECT_EQ(p.Value("nbaprops_circuit_breaker_state", {{"source", "we\"ird\\source\nname"}, {"state", "closed"}}), 1);
}

TEST_F(ServerTest, DashboardShowsThePipelineWithoutExternalAssets) {
  auto r = Get("/");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string& html = r->body;
  auto has = [&](const std::string& s) { return html.find(s) != std::string::npos; };
  EXPECT_TRUE(has("<meta http-equiv=\"refresh\" content=\"30\">"));
  EXPECT_TRUE(has("<table id=\"grid\">"));
  // The worst latest run of phase 5 on the date is the dead letter; phase 3 all succeeded.
  EXPECT_TRUE(has("class=\"cell state-dead\" data-phase=\"5\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-succeeded\" data-phase=\"3\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-failed\" data-phase=\"4\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-queued\" data-phase=\"3\" data-date=\"2024-02-01\""));
  EXPECT_TRUE(has("<ul id=\"incidents\">"));
  EXPECT_TRUE(has("data-key=\"deadline_missed:predictions:2024-01-31\""));
  EXPECT_TRUE(has("predictions for 2024-01-31 missed &quot;their&quot; &lt;deadline&gt;"));  // escaped
  EXPECT_FALSE(has("schedule_missed:old"));
  EXPECT_TRUE(
      has("<ul id=\"alert-channels\"><li class=\"alert-channel severity-critical\" data-channel=\"slack-ops\""));
  EXPECT_TRUE(has("<div id=\"banner\" class=\"banner\" role=\"alert\">Alert channel broken: slack-ops."));
  EXPECT_TRUE(has("<table id=\"dead-letters\">"));
  EXPECT_TRUE(has("<tr data-id=\"" + std::to_string(dead_letter_) + "\">"));
  EXPECT_TRUE(has("<tr class=\"breaker state-open\" data-source=\"odds_api\">"));
  EXPECT_TRUE(has("<tr class=\"deadline state-missed\" data-deadline=\"predictions\" data-date=\"2024-01-31\">"));
  EXPECT_TRUE(has("<div id=\"latency-chart\" class=\"chart\" data-points=\"1\"><svg"));
  EXPECT_TRUE(has("<div id=\"hit-rate-chart\" class=\"chart\" data-points=\"2\"><svg"));
  EXPECT_TRUE(has("<div id=\"registry-backlog\" data-pending=\"1\">"));
  EXPECT_TRUE(has("Nic Claxton"));
  // Every asset is in the page: no script, no external stylesheet, image or font.
  EXPECT_FALSE(has("<script"));
  EXPECT_FALSE(has("src=\""));
  EXPECT_FALSE(has("<link"));
  EXPECT_FALSE(has("href=\"http"));
  EXPECT_FALSE(has("url("));
}

TEST_F(ServerTest, StartStopAndAddressErrors) {
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->Start("127.0.0.1", 0).status().code(), StatusCode::kFailedPrecondition);
  // The bound port is taken: a second server cannot have it.
  ApiServer other(*runner_, {});
  auto taken = other.Start("127.0.0.1", port_);
  EXPECT_EQ(taken.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(taken.status().message().find("--http"), std::string::npos);
  client_.reset();
  server_->Stop();
  server_->Stop();  // idempotent
  EXPECT_FALSE(server_->running());
  EXPECT_FALSE(httplib::Client("127.0.0.1", port_).Get("/health"));  // nothing listens any more
  // And it starts again.
  auto again = server_->Start("127.0.0.1", 0);
  ASSERT_TRUE(again.ok());
  httplib::Client c("127.0.0.1", *again);
  EXPECT_EQ(c.Get("/health")->status, 200);
}

TEST(ListenAddressTest, Parses) {
  EXPECT_EQ(*ParseListenAddress("127.0.0.1:8080"), std::make_pair(std::string("127.0.0.1"), 8080));
  EXPECT_EQ(*ParseListenAddress(":9090"), std::make_pair(std::string("127.0.0.1"), 9090));
  EXPECT_EQ(*ParseListenAddress("9091"), std::make_pair(std::string("127.0.0.1"), 9091));
  EXPECT_EQ(*ParseListenAddress("0.0.0.0:80"), std::make_pair(std::string("0.0.0.0"), 80));
  EXPECT_EQ(*ParseListenAddress("[::1]:8080"), std::make_pair(std::string("::1"), 8080));
  for (const char* bad : {"", "host:", "host:x", "1.2.3.4:70000", "::1:80", "[::1]", "[::1]8080", ":-1"}) {
    EXPECT_EQ(ParseListenAddress(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ExportCacheTest, ReadsOnceAndReloadsOnChange) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("predictions"));
  ASSERT_TRUE(WriteFileAtomic(dir.File("predictions/today.json"), "one").ok());
  ExportCache cache(dir.path(), 2);
  EXPECT_EQ(**cache.Get("predictions/today.json"), "one");
  EXPECT_EQ(**cache.Get("predictions/today.json"), "one");
  EXPECT_EQ(cache.loads(), 1);  // the second Get came from memory
  ASSERT_TRUE(WriteFileAtomic(dir.File("predictions/today.json"), "two!").ok());
  EXPECT_EQ(**cache.Get("predictions/today.json"), "two!");
  EXPECT_EQ(cache.loads(), 2);
  EXPECT_EQ(cache.Get("predictions/none.json").status().code(), StatusCode::kNotFound);
  for (const char* bad : {"../x.json", "/etc/passwd", "a/../../b", "", "a//b"}) {
    EXPECT_EQ(cache.Get(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  // Bounded: a third document evicts the least recently used.
  ASSERT_TRUE(WriteFileAtomic(dir.File("a.json"), "a").ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("b.json"), "b").ok());
  EXPECT_EQ(**cache.Get("a.json"), "a");
  EXPECT_EQ(**cache.Get("b.json"), "b");
  EXPECT_EQ(**cache.Get("predictions/today.json"), "two!");
  EXPECT_EQ(cache.loads(), 5);
}

}  // namespace
}  // namespace nbaprops::api
