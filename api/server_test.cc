// The HTTP API end to end (api/server_test_fixture.h: a real server, a seeded SQLite file, real
// export files, a real client): health, documents, runs and incidents, the token before anything
// else, the mutating endpoints, start/stop, and the export cache. /metrics: metrics_test.cc; the
// dashboard: dashboard_test.cc.
#include "api/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "api/export_cache.h"
#include "api/prom_text_parser.h"
#include "api/server_test_fixture.h"
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
using test::Count;
using test::json;
using test::kDate;
using test::kNowMs;
using test::kToken;
using test::ServerTest;
using test::TempDir;

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
