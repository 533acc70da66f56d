// The fixture of the HTTP API tests (api/server_test.cc, metrics_test.cc, dashboard_test.cc): a
// real server on 127.0.0.1 (any free port), a real SQLite file seeded through the engine (runs, a
// dead letter, incidents, a breaker, deadlines, a registry backlog), real export files and a real
// HTTP client.
#ifndef NBAPROPS_API_SERVER_TEST_FIXTURE_H_
#define NBAPROPS_API_SERVER_TEST_FIXTURE_H_

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/server.h"
#include "base/clock.h"
#include "base/file.h"
#include "engine/incidents.h"
#include "engine/ledger.h"
#include "engine/queue.h"
#include "pipeline/pipeline.h"
#include "store/migrations.h"
#include "tests/test_util.h"

namespace nbaprops::api::test {

using nbaprops::testing::Count;
using nbaprops::testing::TempDir;
using nlohmann::json;

inline constexpr int64_t kNowMs = 1'706'745'600'000;  // 2024-02-01T00:00:00Z
inline constexpr char kToken[] = "test-token-0123456789";
inline constexpr char kDate[] = "2024-01-31";

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

}  // namespace nbaprops::api::test

#endif  // NBAPROPS_API_SERVER_TEST_FIXTURE_H_
