// /metrics end to end: the seeded state read back through a strict Prometheus text-format parser
// (api/prom_text_parser.h), which is itself tested first.
#include "api/metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "api/prom_text_parser.h"
#include "api/server_test_fixture.h"
#include "base/strings.h"

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

}  // namespace
}  // namespace nbaprops::api
