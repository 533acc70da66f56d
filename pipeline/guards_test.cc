#include "pipeline/guards.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "engine/incidents.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr char kDate[] = "2024-01-31";  // a Wednesday, EST (UTC-5)

// Unix ms of a local Eastern time on `days`.
int64_t Et(int32_t days, int hour, int minute) { return EasternLocalToUtc(days, hour, minute) * 1000; }
int32_t Day(const std::string& date) { return *ParseIsoDate(date); }

class GuardsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_.File("guards.db"));
    export_dir_ = dir_.path() + "/exports";
  }

  void Exec(const std::string& sql, const store::Params& params = {}) {
    Status st = store_->WithWrite([&](store::Transaction& t) { return t.Exec(sql, params).status(); });
    ASSERT_TRUE(st.ok()) << st.ToString() << "\n" << sql;
  }

  void AddGame(const std::string& id, const std::string& date, std::optional<int64_t> tip_ms,
               const std::string& status = "scheduled") {
    std::optional<int64_t> tip_s;
    if (tip_ms) tip_s = *tip_ms / 1000;
    Exec(
        "INSERT INTO raw_schedule (game_id, game_date, tipoff_utc, home_team, away_team, status, source, payload_id) "
        "VALUES (?, ?, ?, 'OKC', 'DEN', ?, 'test', 1)",
        {id, date, tip_s, status});
  }

  void AddRun(const std::string& processor, const std::string& partition, const std::string& status,
              int64_t finished_ms, int64_t records_out, const std::optional<std::string>& details = std::nullopt) {
    const int64_t s = finished_ms / 1000;
    const bool dead = status == "dead";
    Exec(
        "INSERT INTO processor_runs (processor, phase, partition_key, data_date, status, trigger, queued_at, "
        "started_at, finished_at, records_out, details, error_category, error_message) VALUES (?, 5, ?, ?, ?, "
        "'schedule', ?, ?, ?, ?, ?, ?, ?)",
        {processor, partition, partition, status, s - 60, s - 30, s, records_out, details,
         dead ? store::Param("bad_input") : store::Param(), dead ? store::Param("line 3 is garbage") : store::Param()});
  }

  void AddPrediction(const std::string& date, const std::string& player, const std::string& recommendation,
                     const std::string& system = "xgboost") {
    Exec(
        "INSERT INTO player_prop_predictions (system_id, model_version, feature_version, game_date, game_id, "
        "player_id, player_name, team, opponent, home, recommendation, created_at) VALUES (?, 'v1', 'f1', ?, 'g1', ?, "
        "?, 'OKC', 'DEN', 1, ?, 0)",
        {system, date, player, player, recommendation});
  }

  // A box-score payload of `date` fetched at `fetched_ms`, parsed at `parsed_ms`.
  void AddBoxScore(const std::string& date, int64_t fetched_ms, int64_t parsed_ms) {
    Exec(
        "INSERT INTO raw_payloads (payload_id, source, kind, source_key, content_hash, size_bytes, fetched_at, "
        "content) VALUES (7, 'test', 'box_scores', 'box.csv', 'h7', 1, ?, 'x')",
        {fetched_ms / 1000});
    Exec(
        "INSERT INTO raw_box_scores (game_id, team, name_key, player_name, game_date, minutes, points, source, "
        "payload_id) VALUES ('g1', 'OKC', 'sga', 'Shai', ?, 34, 31, 'test', 7)",
        {date});
    AddRun("parse_payload", "payload:7", "succeeded", parsed_ms, 1);
  }

  void WriteToday(const std::string& date, int64_t generated_ms, bool halted = false) {
    json doc = {{"schema", "nbaprops/predictions/v1"},
                {"date", date},
                {"generated_at", FormatIsoTimestamp(generated_ms / 1000)},
                {"games", json::array()},
                {"halt_active", halted},
                {"halt_reason", halted ? json("player_prop_predictions is failed") : json(nullptr)},
                {"halt_since", nullptr}};
    dir_.Write("exports/predictions/today.json", doc.dump());
  }

  GuardReport Deadlines(int64_t now_ms, GuardOptions options = {}) {
    auto r = CheckDeadlines(*store_, options, export_dir_, now_ms);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GuardReport{};
  }

  GuardReport Model(const std::string& model_path, const std::string& date) {
    auto r = CheckModelGuard(*store_, GuardOptions{}, model_path, date, 1'000'000);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : GuardReport{};
  }

  std::optional<engine::Incident> OpenIncident(const std::string& key) {
    std::optional<engine::Incident> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(out, engine::GetOpenIncident(t, key));
                      return OkStatus();
                    })
                    .ok());
    return out;
  }

  int64_t Resolved(const std::string& key) {
    return testing::Count(*store_,
                          "SELECT COUNT(*) FROM incidents WHERE status = 'resolved' AND incident_key = '" + key + "'");
  }

  struct Row {
    std::string status;
    int64_t due_at = 0;
    std::optional<int64_t> met_at;
    json details;
  };
  std::optional<Row> Deadline(const std::string& key, const std::string& date) {
    std::optional<Row> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) {
                      return t.Query(
                          "SELECT status, due_at, met_at, details FROM deadlines WHERE deadline_key = ? "
                          "AND data_date = ?",
                          {key, date}, [&](const store::Row& r) {
                            out = Row{r.Text(0), r.Int(1), r.OptInt(2), json::parse(r.Text(3))};
                            return OkStatus();
                          });
                    })
                    .ok());
    return out;
  }

  static const GuardCheck* Find(const GuardReport& r, const std::string& check, const std::string& subject) {
    for (const auto& c : r.checks) {
      if (c.check == check && c.subject == subject) return &c;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::string export_dir_;
};

TEST_F(GuardsTest, PredictionsDeadlineGoesPendingAtRiskMissedThenMetLate) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  AddGame("g2", kDate, Et(d, 22, 0));
  const int64_t due = Et(d, 18, 30);  // 60 min before the first tip-off
  const std::string at_risk = "deadline_at_risk:predictions:2024-01-31";
  const std::string missed = "deadline_missed:predictions:2024-01-31";

  GuardReport r = Deadlines(Et(d, 12, 0));
  ASSERT_TRUE(Deadline("predictions", kDate));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "pending");
  EXPECT_EQ(Deadline("predictions", kDate)->due_at, due);
  EXPECT_EQ(Find(r, "predictions", kDate)->outcome, "pending");
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);

  // 20 minutes before the deadline, nothing yet.
  r = Deadlines(Et(d, 18, 10));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "at_risk");
  auto inc = OpenIncident(at_risk);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "warning");
  EXPECT_THAT(inc->summary, HasSubstr("in 20 min"));
  EXPECT_EQ(Find(r, "predictions", kDate)->incident_key, at_risk);

  r = Deadlines(Et(d, 18, 45));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "missed");
  inc = OpenIncident(missed);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("by 15 min"));
  EXPECT_THAT(inc->summary, HasSubstr("no player_prop_predictions run"));
  EXPECT_EQ(json::parse(inc->details)["late_by_s"], 15 * 60);
  EXPECT_TRUE(OpenIncident(at_risk));  // stays beside the missed one until the deadline is met

  // Predictions land at 18:50: met late, both incidents resolved.
  AddRun("player_prop_predictions", kDate, "succeeded", Et(d, 18, 50), 3);
  AddPrediction(kDate, "p1", "OVER");
  r = Deadlines(Et(d, 18, 55));
  auto row = Deadline("predictions", kDate);
  EXPECT_EQ(row->status, "met_late");
  EXPECT_EQ(row->met_at, Et(d, 18, 50));
  EXPECT_EQ(row->details["margin_s"], -20 * 60);
  EXPECT_FALSE(OpenIncident(at_risk));
  EXPECT_FALSE(OpenIncident(missed));
  EXPECT_EQ(Resolved(at_risk), 1);
  EXPECT_EQ(Resolved(missed), 1);
  EXPECT_GE(r.incidents_resolved, 2);

  // Met is final.
  Deadlines(Et(d, 23, 0));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "met_late");
  EXPECT_FALSE(OpenIncident(missed));
}

TEST_F(GuardsTest, PredictionsMetOnTimeRaisesNothing) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  AddRun("player_prop_predictions", kDate, "succeeded", Et(d, 8, 5), 3);
  AddPrediction(kDate, "p1", "OVER");
  GuardReport r = Deadlines(Et(d, 17, 0));
  auto row = Deadline("predictions", kDate);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "met");
  EXPECT_EQ(row->met_at, Et(d, 8, 5));
  EXPECT_EQ(Find(r, "predictions", kDate)->incident_key, "");
  EXPECT_EQ(r.incidents_open, 0);
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
  // A run that succeeded without rows is not "ready", nor are rows from a run that failed.
  AddGame("g9", "2024-02-01", Et(d + 1, 19, 30));
  AddRun("player_prop_predictions", "2024-02-01", "succeeded", Et(d, 17, 0), 0);
  Deadlines(Et(d + 1, 18, 45));
  EXPECT_EQ(Deadline("predictions", "2024-02-01")->status, "missed");
}

TEST_F(GuardsTest, ADeadRunPutsTheDeadlineAtRiskEarly) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  AddRun("player_prop_predictions", kDate, "dead", Et(d, 8, 5), 0);
  Deadlines(Et(d, 9, 0));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "at_risk");
  auto inc = OpenIncident("deadline_at_risk:predictions:2024-01-31");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("is dead (bad_input: line 3 is garbage)"));
}

TEST_F(GuardsTest, GradingIsDueAtTenEasternTheNextDayAndRecordsTheLatency) {
  // The night of 2024-03-09 the clocks go forward: 10:00 on 03-10 is EDT (14:00 UTC).
  const std::string date = "2024-03-09";
  const int32_t d = Day(date);
  AddGame("g1", date, Et(d, 19, 0));
  AddPrediction(date, "p1", "OVER");
  AddRun("player_prop_predictions", date, "succeeded", Et(d, 8, 0), 1);
  AddBoxScore(date, Et(d + 1, 0, 50), Et(d + 1, 1, 0));  // parsed 01:00 EST = 06:00 UTC
  const std::string at_risk = "deadline_at_risk:grading:2024-03-09";
  const std::string missed = "deadline_missed:grading:2024-03-09";

  Deadlines(Et(d, 20, 0));
  auto row = Deadline("grading", date);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->status, "pending");
  EXPECT_EQ(row->due_at, *ParseIsoTimestamp("2024-03-10T14:00:00Z") * 1000);

  Deadlines(Et(d + 1, 9, 40));
  EXPECT_EQ(Deadline("grading", date)->status, "at_risk");
  EXPECT_TRUE(OpenIncident(at_risk));

  Deadlines(Et(d + 1, 10, 5));
  EXPECT_EQ(Deadline("grading", date)->status, "missed");
  auto inc = OpenIncident(missed);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("2024-03-10T14:00:00Z by 5 min"));

  AddRun("prediction_accuracy", date, "succeeded", Et(d + 1, 10, 20), 1);
  Exec(
      "INSERT INTO prediction_accuracy (prediction_id, system_id, game_date, game_id, player_id, team, "
      "recommendation, outcome) VALUES (1, 'xgboost', ?, 'g1', 'p1', 'OKC', 'OVER', 'correct')",
      {date});
  Deadlines(Et(d + 1, 10, 30));
  row = Deadline("grading", date);
  EXPECT_EQ(row->status, "met_late");
  EXPECT_EQ(row->met_at, Et(d + 1, 10, 20));
  // 06:00 UTC to 14:20 UTC: 8 h 20 min, not the 9 h 20 min the wall clock suggests.
  EXPECT_EQ(row->details["latency_box_score_to_graded_s"], 8 * 3600 + 20 * 60);
  EXPECT_EQ(row->details["last_box_score_ingested_at"], "2024-03-10T06:00:00Z");
  EXPECT_FALSE(OpenIncident(at_risk));
  EXPECT_FALSE(OpenIncident(missed));
}

TEST_F(GuardsTest, ResultsLatencyRunsFromTheLastBoxScoreToThePublishedResults) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  AddPrediction(kDate, "p1", "OVER");
  AddRun("player_prop_predictions", kDate, "succeeded", Et(d, 8, 0), 1);
  // Before any box score there is nothing to measure from.
  Deadlines(Et(d, 23, 0));
  EXPECT_FALSE(Deadline("results_latency", kDate));

  AddBoxScore(kDate, Et(d + 1, 0, 20), Et(d + 1, 0, 30));
  AddRun("prediction_accuracy", kDate, "succeeded", Et(d + 1, 3, 10), 1);
  Exec(
      "INSERT INTO prediction_accuracy (prediction_id, system_id, game_date, game_id, player_id, team, "
      "recommendation, outcome) VALUES (1, 'xgboost', ?, 'g1', 'p1', 'OKC', 'OVER', 'correct')",
      {std::string(kDate)});
  // A halted export kept the last good document: the results are not out.
  AddRun("export_results", kDate, "succeeded", Et(d + 1, 3, 12), 3,
         "{\"files\":3,\"halt\":\"player_game_summary is failed\"}");
  Deadlines(Et(d + 1, 6, 10));
  auto row = Deadline("results_latency", kDate);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->due_at, Et(d + 1, 6, 30));  // 6 h after the box score was parsed
  EXPECT_EQ(row->status, "at_risk");
  auto inc = OpenIncident("deadline_at_risk:results_latency:2024-01-31");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("export_results has not published since"));

  Deadlines(Et(d + 1, 6, 40));
  EXPECT_EQ(Deadline("results_latency", kDate)->status, "missed");
  EXPECT_TRUE(OpenIncident("deadline_missed:results_latency:2024-01-31"));

  AddRun("export_results", kDate, "succeeded", Et(d + 1, 6, 50), 3, "{\"files\":3}");
  Deadlines(Et(d + 1, 7, 0));
  row = Deadline("results_latency", kDate);
  EXPECT_EQ(row->status, "met_late");
  EXPECT_EQ(row->met_at, Et(d + 1, 6, 50));
  EXPECT_EQ(row->details["latency_box_score_to_graded_s"], 2 * 3600 + 40 * 60);
  EXPECT_EQ(row->details["latency_box_score_to_exported_s"], 6 * 3600 + 20 * 60);
  EXPECT_FALSE(OpenIncident("deadline_missed:results_latency:2024-01-31"));
  EXPECT_FALSE(OpenIncident("deadline_at_risk:results_latency:2024-01-31"));
  // The grading row carries the same latency to grading.
  EXPECT_EQ(Deadline("grading", kDate)->status, "met");
  EXPECT_EQ(Deadline("grading", kDate)->details["latency_box_score_to_graded_s"], 2 * 3600 + 40 * 60);
}

TEST_F(GuardsTest, TodayJsonMustBeFreshDuringGameHoursOnly) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));  // game hours 18:30 .. 22:30 ET
  const std::string at_risk = "deadline_at_risk:today_json:2024-01-31";
  const std::string missed = "deadline_missed:today_json:2024-01-31";

  // Written in the morning: six hours old, but outside game hours that is fine.
  WriteToday(kDate, Et(d, 8, 5));
  GuardReport r = Deadlines(Et(d, 14, 0));
  EXPECT_EQ(Deadline("today_json", kDate)->status, "pending");
  EXPECT_EQ(Deadline("today_json", kDate)->due_at, Et(d, 18, 30));
  EXPECT_FALSE(OpenIncident(at_risk));
  EXPECT_FALSE(OpenIncident(missed));

  WriteToday(kDate, Et(d, 19, 55));
  Deadlines(Et(d, 20, 0));
  EXPECT_EQ(Deadline("today_json", kDate)->status, "met");
  EXPECT_FALSE(OpenIncident(at_risk));

  Deadlines(Et(d, 20, 2));  // 7 min old
  EXPECT_EQ(Deadline("today_json", kDate)->status, "at_risk");
  EXPECT_TRUE(OpenIncident(at_risk));

  r = Deadlines(Et(d, 20, 7));  // 12 min old
  EXPECT_EQ(Deadline("today_json", kDate)->status, "missed");
  auto inc = OpenIncident(missed);
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("written 12 min ago (at most 10 min)"));
  EXPECT_EQ(json::parse(inc->details)["age_s"], 12 * 60);

  WriteToday(kDate, Et(d, 20, 10));
  Deadlines(Et(d, 20, 11));
  auto row = Deadline("today_json", kDate);
  EXPECT_EQ(row->status, "met_late");
  EXPECT_EQ(row->details["misses"], 1);
  EXPECT_FALSE(OpenIncident(at_risk));
  EXPECT_FALSE(OpenIncident(missed));

  // Yesterday's document during game hours is stale whatever its age.
  WriteToday("2024-01-30", Et(d, 20, 20));
  Deadlines(Et(d, 20, 21));
  inc = OpenIncident(missed);
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("it holds 2024-01-30, not 2024-01-31"));
  // A halted document keeps its old generated_at, so it goes stale too, and says why.
  WriteToday(kDate, Et(d, 20, 0), /*halted=*/true);
  Deadlines(Et(d, 20, 22));
  inc = OpenIncident(missed);
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("halted: player_prop_predictions is failed"));
  WriteToday(kDate, Et(d, 20, 25));
  Deadlines(Et(d, 20, 26));
  EXPECT_FALSE(OpenIncident(missed));

  // After game hours an 80-minute-old file raises nothing; the date's record is kept.
  Deadlines(Et(d, 23, 45));
  row = Deadline("today_json", kDate);
  EXPECT_EQ(row->status, "met_late");
  EXPECT_EQ(row->details["misses"], 2);
  EXPECT_EQ(row->details["closed"], true);
  EXPECT_FALSE(OpenIncident(at_risk));
  EXPECT_FALSE(OpenIncident(missed));
}

TEST_F(GuardsTest, TodayJsonAbsentJustBeforeGameHoursIsAtRisk) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  Deadlines(Et(d, 18, 10));
  EXPECT_EQ(Deadline("today_json", kDate)->status, "at_risk");
  auto inc = OpenIncident("deadline_at_risk:today_json:2024-01-31");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("does not exist"));
  Deadlines(Et(d, 18, 40));
  EXPECT_EQ(Deadline("today_json", kDate)->status, "missed");
  EXPECT_TRUE(OpenIncident("deadline_missed:today_json:2024-01-31"));
}

TEST_F(GuardsTest, ADateWithoutGamesHasNoDeadlines) {
  const int32_t d = Day(kDate);
  GuardReport r = Deadlines(Et(d, 20, 0));
  EXPECT_TRUE(r.checks.empty());
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM deadlines"), 0);

  // Postponed games are not played on the date.
  AddGame("g1", kDate, Et(d, 19, 30), "postponed");
  Deadlines(Et(d, 20, 0));
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM deadlines"), 0);
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);

  // A game that is postponed after its deadline was missed takes the deadline and its incident away.
  AddGame("g2", kDate, Et(d, 19, 30));
  Deadlines(Et(d, 18, 45));
  EXPECT_TRUE(OpenIncident("deadline_missed:predictions:2024-01-31"));
  Exec("UPDATE raw_schedule SET status = 'postponed' WHERE game_id = 'g2'");
  r = Deadlines(Et(d, 18, 50));
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM deadlines"), 0);
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents WHERE status = 'open'"), 0);
  ASSERT_TRUE(Find(r, "predictions", kDate));
  EXPECT_EQ(Find(r, "predictions", kDate)->outcome, "dropped");
}

TEST_F(GuardsTest, AnUnmetDeadlineOfAnOlderDateIsJudgedUntilMet) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  Deadlines(Et(d, 18, 45));
  EXPECT_TRUE(OpenIncident("deadline_missed:predictions:2024-01-31"));
  // A week later the date is no longer recent, but its missed deadline is still watched.
  AddRun("player_prop_predictions", kDate, "succeeded", Et(d + 7, 9, 0), 2);
  AddPrediction(kDate, "p1", "UNDER");
  GuardReport r = Deadlines(Et(d + 7, 9, 5));
  EXPECT_EQ(Deadline("predictions", kDate)->status, "met_late");
  EXPECT_FALSE(OpenIncident("deadline_missed:predictions:2024-01-31"));
  // The guard was down when that night's game hours ended: they close now, and stay closed.
  EXPECT_EQ(Find(r, "today_json", kDate)->outcome, "missed");
  EXPECT_FALSE(OpenIncident("deadline_missed:today_json:2024-01-31"));
  EXPECT_TRUE(Deadline("today_json", kDate)->details["closed"]);
  r = Deadlines(Et(d + 8, 9, 5));
  EXPECT_FALSE(Find(r, "today_json", kDate));
  EXPECT_TRUE(Find(r, "grading", kDate));  // still missed, still watched
}

TEST_F(GuardsTest, DryRunReportsWithoutWriting) {
  const int32_t d = Day(kDate);
  AddGame("g1", kDate, Et(d, 19, 30));
  GuardOptions o;
  o.dry_run = true;
  GuardReport r = Deadlines(Et(d, 18, 45), o);
  const GuardCheck* c = Find(r, "predictions", kDate);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, "missed");
  EXPECT_EQ(c->incident_key, "deadline_missed:predictions:2024-01-31");
  EXPECT_EQ(c->due_at_ms, Et(d, 18, 30));
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM deadlines"), 0);
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
}

// ---------------------------------------------------------------------------------------------
// Model guard

// 14 graded days 2024-02-01..14 per system, plus an older perfect day the window must not see.
void SeedPerformance(store::Store& s) {
  ASSERT_TRUE(s.WithWrite([](store::Transaction& t) -> Status {
                 const char* sql =
                     "INSERT INTO prediction_performance_daily (game_date, system_id, predictions, picks, wins, "
                     "losses, pushes, voids, not_graded, units, n_mae, mae_model, mae_line, n_clv) VALUES (?, ?, 30, "
                     "20, ?, ?, 0, 0, 10, 0, 20, ?, ?, 0)";
                 RETURN_IF_ERROR(t.Exec(sql, {"2024-01-20", "xgboost", 100, 0, 1.0, 9.0}).status());
                 for (int i = 0; i < 14; ++i) {
                   const std::string date = FormatIsoDate(*ParseIsoDate("2024-02-01") + i);
                   RETURN_IF_ERROR(t.Exec(sql, {date, "xgboost", 8, 12, 5.0, 5.2}).status());
                   RETURN_IF_ERROR(t.Exec(sql, {date, "moving_average", 12, 8, 5.1, 5.2}).status());
                 }
                 return OkStatus();
               }).ok());
}

TEST_F(GuardsTest, HitRateBelowBreakEvenRaisesAnIncidentWithTheNumbers) {
  SeedPerformance(*store_);
  GuardReport r = Model("", "2024-02-14");
  auto inc = OpenIncident("model_hit_rate:xgboost");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "warning");
  EXPECT_THAT(inc->summary, HasSubstr("xgboost hit 40.0%"));
  EXPECT_THAT(inc->summary, HasSubstr("of 280 decided picks (112-168)"));
  EXPECT_THAT(inc->summary, HasSubstr("last 14 graded days (2024-02-01..2024-02-14)"));
  json details = json::parse(inc->details);
  EXPECT_EQ(details["n"], 280);
  EXPECT_DOUBLE_EQ(details["hit_rate"].get<double>(), 0.4);
  EXPECT_LT(details["hit_rate_ci95"][1].get<double>(), 0.524);
  EXPECT_GT(details["hit_rate_ci95"][0].get<double>(), 0.3);
  EXPECT_EQ(details["system"], "xgboost");
  EXPECT_EQ(details["window"], json({{"graded_days", 14}, {"from", "2024-02-01"}, {"to", "2024-02-14"}}));
  EXPECT_FALSE(OpenIncident("model_hit_rate:moving_average"));
  EXPECT_EQ(Find(r, "model_hit_rate", "moving_average")->outcome, "ok");
  EXPECT_FALSE(OpenIncident("model_mae:xgboost"));  // 5.0 vs 5.2: better than the line

  // 47.5% of 280 is below the floor, but the interval reaches break-even: not proven, no incident.
  Exec(
      "UPDATE prediction_performance_daily SET wins = 10, losses = 10 WHERE system_id = 'xgboost' AND "
      "game_date >= '2024-02-01' AND game_date <= '2024-02-07'");
  Exec(
      "UPDATE prediction_performance_daily SET wins = 9, losses = 11 WHERE system_id = 'xgboost' AND "
      "game_date > '2024-02-07'");
  r = Model("", "2024-02-14");
  EXPECT_EQ(Find(r, "model_hit_rate", "xgboost")->outcome, "ok");
  EXPECT_FALSE(OpenIncident("model_hit_rate:xgboost"));
  EXPECT_EQ(Resolved("model_hit_rate:xgboost"), 1);
}

TEST_F(GuardsTest, TooFewPicksNeitherOpensNorResolves) {
  Exec(
      "INSERT INTO prediction_performance_daily (game_date, system_id, predictions, picks, wins, losses, pushes, "
      "voids, not_graded, units, n_mae, mae_model, mae_line, n_clv) VALUES ('2024-02-01', 'xgboost', 5, 5, 0, 5, 0, "
      "0, 0, -5, 5, 9.0, 5.0, 0)");
  GuardReport r = Model("", "2024-02-01");
  EXPECT_EQ(Find(r, "model_hit_rate", "xgboost")->outcome, "skipped");
  EXPECT_EQ(Find(r, "model_mae", "xgboost")->outcome, "skipped");
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
}

TEST_F(GuardsTest, ModelMaeWorseThanTheLineRaisesAnIncidentAndResolves) {
  SeedPerformance(*store_);
  Exec("UPDATE prediction_performance_daily SET mae_model = 6.0, mae_line = 5.5 WHERE system_id = 'xgboost'");
  Model("", "2024-02-14");
  auto inc = OpenIncident("model_mae:xgboost");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("xgboost MAE 6.00 vs line MAE 5.50 (+0.50) over 280 graded picks"));
  json details = json::parse(inc->details);
  EXPECT_EQ(details["n_mae"], 280);
  EXPECT_DOUBLE_EQ(details["mae_model"].get<double>(), 6.0);
  EXPECT_DOUBLE_EQ(details["mae_line"].get<double>(), 5.5);
  EXPECT_EQ(details["window"]["graded_days"], 14);

  Exec("UPDATE prediction_performance_daily SET mae_model = 5.6 WHERE system_id = 'xgboost'");
  GuardReport r = Model("", "2024-02-14");
  EXPECT_EQ(Find(r, "model_mae", "xgboost")->outcome, "ok");
  EXPECT_FALSE(OpenIncident("model_mae:xgboost"));
  EXPECT_EQ(Resolved("model_mae:xgboost"), 1);
}

TEST_F(GuardsTest, StaleModelInADirectoryRaisesAnIncidentUntilANewerOneArrives) {
  dir_.Write("models/points-2024-01-01.json", "{}");
  dir_.Write("models/points-2024-03-01.json", "{}");  // trained after the date: not in force
  const std::string models = dir_.path() + "/models";
  GuardReport r = Model(models, "2024-02-14");
  auto inc = OpenIncident("model_stale");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("trained until 2024-01-01 is 44 days old on 2024-02-14 (at most 30 allowed)"));
  EXPECT_EQ(json::parse(inc->details)["age_days"], 44);
  EXPECT_EQ(Find(r, "model_stale", models + "/points-2024-01-01.json")->outcome, "alert");

  dir_.Write("models/points-2024-02-10.json", "{}");
  r = Model(models, "2024-02-14");
  EXPECT_EQ(Find(r, "model_stale", models + "/points-2024-02-10.json")->outcome, "ok");
  EXPECT_FALSE(OpenIncident("model_stale"));
  EXPECT_EQ(Resolved("model_stale"), 1);
}

TEST_F(GuardsTest, StaleOrMissingModelFile) {
  const std::string file =
      dir_.Write("model.json", "{\"format\":\"nbaprops-points\",\"trained_until\":\"2023-12-01\"}");
  Model(file, "2024-02-14");
  auto inc = OpenIncident("model_stale");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("75 days old"));

  Model(dir_.File("nope.json"), "2024-02-14");
  inc = OpenIncident("model_stale");
  ASSERT_TRUE(inc);
  EXPECT_THAT(inc->summary, HasSubstr("cannot be read"));
  EXPECT_EQ(inc->count, 2);  // the same episode

  // No model configured: moving_average only, nothing to judge.
  GuardReport r = Model("", "2024-02-14");
  EXPECT_EQ(Find(r, "model_stale", "(none)")->outcome, "skipped");
  EXPECT_FALSE(OpenIncident("model_stale"));
}

TEST_F(GuardsTest, ZeroPicksWhileLinesExistIsCritical) {
  const std::string date = "2024-02-14";
  for (const char* p : {"p1", "p2", "p3"}) {
    Exec(
        "INSERT INTO analytics_upcoming_player_lines (game_date, game_id, player_id, sportsbook, captured_at, line, "
        "source) VALUES (?, 'g1', ?, 'draftkings', 100, 20.5, 'test')",
        {date, p});
    AddPrediction(date, p, "PASS");
  }
  AddPrediction(date, "p1", "NO_LINE", "moving_average");
  // Not judged before the predictions ran.
  GuardReport r = Model("", date);
  EXPECT_EQ(Find(r, "zero_picks", date)->outcome, "skipped");
  EXPECT_FALSE(OpenIncident("zero_picks:2024-02-14"));

  AddRun("player_prop_predictions", date, "succeeded", 1'000'000, 4);
  r = Model("", date);
  auto inc = OpenIncident("zero_picks:2024-02-14");
  ASSERT_TRUE(inc);
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("zero picks on 2024-02-14 while 3 players have lines (4 live predictions"));
  EXPECT_THAT(inc->summary, HasSubstr("xgboost: PASS 3"));
  json details = json::parse(inc->details);
  EXPECT_EQ(details["players_with_lines"], 3);
  EXPECT_EQ(details["picks"], 0);
  EXPECT_EQ(details["by_system"]["xgboost"]["PASS"], 3);

  Exec("UPDATE player_prop_predictions SET recommendation = 'OVER' WHERE player_id = 'p2' AND system_id = 'xgboost'");
  r = Model("", date);
  EXPECT_EQ(Find(r, "zero_picks", date)->outcome, "ok");
  EXPECT_FALSE(OpenIncident("zero_picks:2024-02-14"));
  EXPECT_EQ(Resolved("zero_picks:2024-02-14"), 1);
}

TEST_F(GuardsTest, ZeroPicksWithoutLinesIsExpected) {
  const std::string date = "2024-02-15";
  AddPrediction(date, "p1", "NO_LINE");
  AddRun("player_prop_predictions", date, "succeeded", 1'000'000, 1);
  GuardReport r = Model("", date);
  const GuardCheck* c = Find(r, "zero_picks", date);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, "ok");
  EXPECT_THAT(c->summary, HasSubstr("no lines: no picks expected"));
  EXPECT_EQ(testing::Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
}

TEST_F(GuardsTest, ModelGuardRejectsABadDate) {
  auto r = CheckModelGuard(*store_, GuardOptions{}, "", "2024-02-30", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("2024-02-30"));
}

}  // namespace
}  // namespace nbaprops::pipeline
