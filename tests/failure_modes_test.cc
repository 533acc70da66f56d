// The failure-mode suite: one integration test per real failure of the system we replace, each
// reproduced on the bundled season and shown detected and (where possible) healed, with the time
// it took under the fake clock.
//
// Every test runs a copy of one template database (the season imported, and every date before
// kDate run through all phases) and drives it the way `serve` does, one step at a time on a
// FakeClock: scheduler tick, lease reaper, reconciler, drain the queue, deadlines and model guard.
// Nothing sleeps; the times printed are fake-clock times.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "base/clock.h"
#include "base/time.h"
#include "engine/incidents.h"
#include "engine/queue.h"
#include "engine/reconciler.h"
#include "engine/scheduler.h"
#include "pipeline/guards.h"
#include "pipeline/ingest.h"
#include "pipeline/model.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

namespace fs = std::filesystem;
using testing::Count;
using ::testing::HasSubstr;
using testing::TempDir;

// Sunday 2024-02-04: 9 games, first tip 20:00Z (15:00 ET), last 01:30Z; lines and injury reports.
constexpr char kDate[] = "2024-02-04";
constexpr int64_t kMinute = 60'000;

int64_t Ms(const char* iso) { return ParseIsoTimestamp(iso).value() * 1000; }

class FailureModesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    template_dir_ = new TempDir();
    auto store = testing::OpenTestStore(template_dir_->File("template.db"));
    // The template is built "before" every test's clock (imported on 2024-01-01), so runs the
    // tests make are newer than anything in it.
    FakeClock clock(Ms("2024-01-01T00:00:00Z"));
    Config config;
    config.export_dir = template_dir_->File("exports");
    auto runner = pipeline::MakeRunner(*store, clock, config).value();
    pipeline::Ingestor ingestor(*runner);
    for (const auto& r : ingestor.ImportPaths({std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24"}, std::nullopt)) {
      ASSERT_TRUE(r.status.ok()) << r.path << ": " << r.status.ToString();
    }
    // Each earlier date is run at 05:00 ET the morning after, as `results_yesterday` would.
    for (int32_t d = *ParseIsoDate("2023-10-24"); d <= *ParseIsoDate("2024-02-03"); ++d) {
      clock.SetMillis(EasternLocalToUtc(d + 1, 5, 0) * 1000);
      pipeline::DateRunResult day = pipeline::RunDate(*runner, FormatIsoDate(d), 0, "backfill");
      ASSERT_TRUE(day.ok()) << day.date;
    }
  }
  static void TearDownTestSuite() {
    delete template_dir_;
    template_dir_ = nullptr;
  }

  void SetUp() override {
    fs::copy_file(template_dir_->File("template.db"), dir_.File("live.db"));
    store_ = testing::OpenTestStore(dir_.File("live.db"));
    config_.export_dir = dir_.File("exports");
  }

  // Builds the runner, scheduler and reconciler the way `serve` does, at the current clock.
  void Start() {
    runner_ = pipeline::MakeRunner(*store_, clock_, config_).value();
    scheduler_ = std::make_unique<engine::Scheduler>(*store_, clock_);
    ASSERT_TRUE(pipeline::RegisterSchedules(*scheduler_, *runner_).ok());
    planner_ = std::make_unique<pipeline::PipelinePlanner>(pipeline::PlanOptionsOf(*runner_));
    reconciler_ = std::make_unique<engine::Reconciler>(*runner_, *planner_, clock_);
  }

  // One step of `serve`, then the clock moves on.
  void Step(int64_t step_ms) {
    if (scheduler_on_) {
      ASSERT_TRUE(scheduler_->Tick().ok());
    }
    ASSERT_TRUE(scheduler_->CheckMissed(15 * kMinute).ok());
    ASSERT_TRUE(runner_->Reap().ok());
    if (clock_.NowMillis() >= next_reconcile_) {
      ASSERT_TRUE(reconciler_->RunOnce(false).ok());
      next_reconcile_ = clock_.NowMillis() + kMinute;
    }
    ASSERT_TRUE(runner_->DrainQueue().ok());
    const int64_t now = clock_.NowMillis();
    ASSERT_TRUE(pipeline::CheckDeadlines(*store_, pipeline::GuardOptions{}, config_.export_dir, now).ok());
    ASSERT_TRUE(pipeline::CheckModelGuard(*store_, pipeline::GuardOptions{}, config_.model_path,
                                          FormatIsoDate(EasternDate(now / 1000)), now)
                    .ok());
    clock_.AdvanceMillis(step_ms);
  }
  // Steps until `until_ms`, or until `done` holds (checked before each step); returns the time it
  // stopped at.
  int64_t RunUntil(int64_t until_ms, int64_t step_ms, const std::function<bool()>& done = nullptr) {
    while (clock_.NowMillis() < until_ms) {
      if (done && done()) break;
      Step(step_ms);
      if (HasFatalFailure()) break;
    }
    return clock_.NowMillis();
  }

  int64_t N(const std::string& sql) { return Count(*store_, sql); }
  bool Open(const std::string& key) {
    return N("SELECT COUNT(*) FROM incidents WHERE status = 'open' AND incident_key = '" + key + "'") == 1;
  }
  std::string Summary(const std::string& key) {
    std::string out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto i, engine::GetOpenIncident(t, key));
                      out = i ? i->summary : "";
                      return OkStatus();
                    })
                    .ok());
    return out;
  }
  // Every expectation of the date that is due now is met.
  bool DueMet(const std::string& date) {
    bool ok = true;
    const pipeline::PlanOptions po = pipeline::PlanOptionsOf(*runner_);
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto plan, pipeline::PlanDate(t, date, po));
                      for (const auto& e : plan) ok = ok && (e.met() || clock_.NowMillis() < e.due_ms);
                      return OkStatus();
                    })
                    .ok());
    return ok;
  }
  int64_t LivePredictions() {
    return N(std::string("SELECT COUNT(*) FROM player_prop_predictions WHERE superseded_by IS NULL AND game_date = '") +
             kDate + "'");
  }
  void Exec(const std::string& sql) {
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) { return t.Exec(sql).status(); }).ok()) << sql;
  }
  static void Report(const char* what, int64_t ms) {
    std::printf("[failure-mode] %s: %.1f min on the fake clock\n", what, static_cast<double>(ms) / kMinute);
  }

  static TempDir* template_dir_;
  TempDir dir_;
  FakeClock clock_{Ms("2024-02-04T12:59:00Z")};  // 07:59 ET, a minute before predictions_today
  Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Runner> runner_;
  std::unique_ptr<engine::Scheduler> scheduler_;
  std::unique_ptr<pipeline::PipelinePlanner> planner_;
  std::unique_ptr<engine::Reconciler> reconciler_;
  bool scheduler_on_ = true;
  int64_t next_reconcile_ = 0;
};

TempDir* FailureModesTest::template_dir_ = nullptr;

// Plus: the reconciler leaves a healthy date alone, and a date without games alone.
TEST_F(FailureModesTest, ReconcilerOnAHealthyDayAndOnADayWithoutGamesDoesNothing) {
  clock_.SetMillis(Ms("2024-02-04T12:00:00Z"));
  Start();
  const int64_t runs = N("SELECT COUNT(*) FROM processor_runs");
  auto healthy = reconciler_->RunOnce(false, "2024-02-03");
  ASSERT_TRUE(healthy.ok());
  EXPECT_GT(healthy->planned.size(), 15u);
  EXPECT_TRUE(healthy->unmet.empty());
  auto empty = reconciler_->RunOnce(false, "2024-02-19");  // All-Star break
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->planned.empty());
  EXPECT_EQ(N("SELECT COUNT(*) FROM processor_runs"), runs);
  EXPECT_EQ(N("SELECT COUNT(*) FROM incidents"), 0);
}

// 1. A processor crashes and leaves its run "running": the reaper fails it as lease_expired
//    within the lease, the retry completes the date, and nothing stays running.
TEST_F(FailureModesTest, ACrashedRunIsReapedWithinTheLeaseAndRetried) {
  Start();
  clock_.SetMillis(Ms("2024-02-04T13:00:00Z"));
  ASSERT_TRUE(scheduler_->Tick().ok());  // 08:00 ET: predictions_today queues the date's roots
  auto claimed = engine::Queue::ClaimNext(*store_, "crashed-worker", clock_.NowMillis(), 30'000, 4242);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const int64_t run_id = (*claimed)->run.run_id, crashed_at = clock_.NowMillis();
  // The worker died: it never heartbeats nor commits. Serve steps every second.
  auto reaped = [&] {
    return N("SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(run_id) +
             " AND error_category = 'lease_expired'") == 1;
  };
  const int64_t detected = RunUntil(crashed_at + 5 * kMinute, 1000, reaped);
  ASSERT_TRUE(reaped());
  Report("crashed run failed as lease_expired after", detected - crashed_at);
  EXPECT_LE(detected - crashed_at, 31'000);  // lease 30 s + one reaper step
  RunUntil(Ms("2024-02-04T19:00:00Z"), kMinute, [&] { return DueMet(kDate) && LivePredictions() > 0; });
  EXPECT_EQ(N("SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), 0);
  EXPECT_EQ(N("SELECT COUNT(*) FROM processor_runs WHERE caused_by_run_id = " + std::to_string(run_id) +
              " AND trigger = 'retry' AND status = 'succeeded' AND attempt = 2"),
            1);
  EXPECT_GT(LivePredictions(), 100);
}

// 2. A processor writes 0 rows on a game day (the rows it reads were lost to a bad concurrent
//    write): its run fails as incomplete_output instead of completing the phase, the reconciler
//    re-runs the step that lost the rows, and the triggers rebuild the rest.
TEST_F(FailureModesTest, AZeroRowWriteOnAGameDayIsNotCompleteAndIsHealed) {
  Start();
  RunUntil(Ms("2024-02-05T10:00:00Z"), 5 * kMinute);  // the whole day, graded at 04:00 ET
  ASSERT_TRUE(DueMet(kDate));
  Exec(std::string("DELETE FROM analytics_player_game_summary WHERE game_date = '") + kDate + "'");
  const int64_t lost_at = clock_.NowMillis();
  engine::Processor* team = runner_->Find("team_offense_game_summary");
  engine::RunOutcome zero = runner_->Execute(*team, kDate, kDate, "manual");
  EXPECT_EQ(zero.category, engine::FailureCategory::kIncompleteOutput);
  EXPECT_FALSE(DueMet(kDate));
  const int64_t healed = RunUntil(lost_at + 3 * 3'600'000, kMinute, [&] { return DueMet(kDate); });
  ASSERT_TRUE(DueMet(kDate));
  Report("0-row write detected and healed after", healed - lost_at);
  Step(kMinute);  // the next cycle sees the date whole again
  EXPECT_EQ(N(std::string("SELECT COUNT(*) FROM processor_runs r JOIN run_transitions x ON x.run_id = r.run_id WHERE "
                          "r.processor = 'player_game_summary' AND r.trigger = 'self_heal' AND r.data_date = '") +
              kDate + "' AND x.to_status = 'queued' AND x.reason LIKE '%a summary row per player who played: 0 of%'"),
            1);
  EXPECT_EQ(N("SELECT COUNT(*) FROM incidents WHERE incident_key = 'heal:player_game_summary:2024-02-04' AND status = "
              "'resolved'"),
            1);
  EXPECT_GT(
      N(std::string("SELECT COUNT(*) FROM analytics_team_offense_game_summary WHERE game_date = '") + kDate + "'"), 0);
}

// 3. One of nine expected box-score files arrives: the summaries defer with the eight missing
//    games listed, an incident opens when the results are due, and the date completes once the
//    rest arrive.
TEST_F(FailureModesTest, OneOfNineBoxScoreFilesIsDeferredWithTheEightMissingListed) {
  // Before the games: scheduled, no box scores yet (the template holds the final season).
  Exec(std::string("CREATE TABLE held_box AS SELECT * FROM raw_box_scores WHERE game_date = '") + kDate + "'");
  Exec(std::string("CREATE TABLE held_schedule AS SELECT * FROM raw_schedule WHERE game_date = '") + kDate + "'");
  Exec(std::string("DELETE FROM raw_box_scores WHERE game_date = '") + kDate + "'");
  Exec(std::string("UPDATE raw_schedule SET status = 'scheduled', home_points = NULL, away_points = NULL WHERE "
                   "game_date = '") +
       kDate + "'");
  Start();
  RunUntil(Ms("2024-02-04T23:00:00Z"), 5 * kMinute);
  EXPECT_GT(LivePredictions(), 100);
  // The night's scrape: every game final, but box scores for only one (the collector bug).
  Exec("DELETE FROM raw_schedule WHERE game_id IN (SELECT game_id FROM held_schedule)");
  Exec("INSERT INTO raw_schedule SELECT * FROM held_schedule");
  Exec("INSERT INTO raw_box_scores SELECT * FROM held_box WHERE game_id = '0022300704'");
  RunUntil(Ms("2024-02-05T09:30:00Z"), 5 * kMinute);  // past 04:00 ET results_yesterday
  const std::string deferred = std::string(
                                   "SELECT COUNT(*) FROM processor_runs WHERE processor = "
                                   "'player_game_summary' AND data_date = '") +
                               kDate + "' AND status = 'deferred' AND error_message LIKE '%16 team-game(s)%'";
  EXPECT_GT(N(deferred), 0);
  EXPECT_EQ(N(std::string("SELECT COUNT(*) FROM processor_runs WHERE status = 'dead' AND data_date = '") + kDate + "'"),
            0);
  const std::string key = std::string("missing_input:") + kDate;
  ASSERT_TRUE(Open(key));
  EXPECT_THAT(Summary(key), HasSubstr("final games with box scores for both teams: 1 of 9"));
  EXPECT_THAT(Summary(key), HasSubstr("0022300705"));
  // The rest arrives; the deferred run picks it up and the date completes.
  Exec("INSERT INTO raw_box_scores SELECT * FROM held_box WHERE game_id != '0022300704'");
  const int64_t arrived = clock_.NowMillis();
  const int64_t done = RunUntil(arrived + 6 * 3'600'000, kMinute, [&] { return DueMet(kDate); });
  ASSERT_TRUE(DueMet(kDate));
  Report("missing box scores arrived -> date graded and exported after", done - arrived);
  EXPECT_FALSE(Open(key));
  EXPECT_GT(N(std::string("SELECT COUNT(*) FROM prediction_accuracy WHERE game_date = '") + kDate + "'"), 100);
}

// 4. A poison payload (truncated JSON) is dead-lettered on its first attempt with an incident;
//    the rest of the date proceeds.
TEST_F(FailureModesTest, APoisonPayloadIsDeadLetteredAndTheDateProceeds) {
  Start();
  const std::string path = dir_.Write("odds-truncated.json",
                                      "{\"id\":\"e1\",\"sport_key\":\"basketball_nba\",\"commence_time\":"
                                      "\"2024-02-04T20:00:00Z\",\"home_team\":\"Boston Celtics\",\"bookmakers\":[{\"k");
  pipeline::Ingestor ingestor(*runner_);
  pipeline::ImportResult r = ingestor.ImportFile(path, pipeline::ImportKind::kOddsApiEventOdds);
  EXPECT_FALSE(r.status.ok());
  EXPECT_EQ(N("SELECT COUNT(*) FROM dead_letters WHERE status = 'open' AND processor = 'parse_payload'"), 1);
  EXPECT_EQ(N("SELECT COUNT(*) FROM processor_runs WHERE processor = 'parse_payload' AND status IN ('dead', 'failed') "
              "AND attempt > 1"),
            0);  // not retried
  EXPECT_EQ(
      N("SELECT COUNT(*) FROM incidents WHERE status = 'open' AND incident_key LIKE 'dead_letter:parse_payload:%'"), 1);
  const int64_t t0 = clock_.NowMillis();
  const int64_t done = RunUntil(Ms("2024-02-04T19:00:00Z"), kMinute, [&] { return LivePredictions() > 0; });
  Report("predictions despite the poison payload after", done - t0);
  EXPECT_GT(LivePredictions(), 100);
  // Inputs were complete at 08:00 ET, so nothing was degraded.
  EXPECT_EQ(
      N(std::string("SELECT COUNT(*) FROM player_prop_predictions WHERE superseded_by IS NULL AND game_date = '") +
        kDate + "' AND quality_tier != 'gold'"),
      0);
  EXPECT_EQ(N("SELECT COUNT(*) FROM dead_letters WHERE status = 'open'"), 1);
}

// 5. A source fails every request: its breaker opens, runs needing it are deferred (not failed,
//    not dead), and when it returns the breaker closes and the backlog is imported.
TEST_F(FailureModesTest, ASourceFailingEveryRequestOpensItsBreakerAndCatchesUp) {
  clock_.SetMillis(Ms("2024-02-04T06:58:00Z"));
  config_.inbox = dir_.File("inbox");  // never created: the share is not mounted
  Start();
  const int64_t down_from = Ms("2024-02-04T07:00:00Z");
  auto open = [&] { return N("SELECT COUNT(*) FROM circuit_breakers WHERE source = 'inbox' AND state = 'open'") == 1; };
  const int64_t opened = RunUntil(down_from + 30 * kMinute, kMinute, open);
  ASSERT_TRUE(open());
  Report("inbox breaker opened after", opened - down_from);
  EXPECT_TRUE(Open("breaker_open:inbox"));
  RunUntil(clock_.NowMillis() + 60 * kMinute, kMinute);
  EXPECT_EQ(N("SELECT COUNT(*) FROM processor_runs WHERE processor = 'import_inbox' AND status = 'dead'"), 0);
  EXPECT_GT(N("SELECT COUNT(*) FROM processor_runs WHERE processor = 'import_inbox' AND status = 'deferred'"), 0);
  // Far fewer attempts than an unguarded retry loop: the breaker admits one probe per cool-down.
  EXPECT_LT(N("SELECT COUNT(*) FROM processor_runs WHERE processor = 'import_inbox' AND status != 'queued'"), 15);

  // The share comes back with a new injury report.
  dir_.Write("inbox/injuries-late.csv",
             "captured_at_utc,team,player_name,status,report_date\n"
             "2024-02-04T08:30:00Z,BOS,Jaylen Brown,Questionable,2024-02-04\n");
  const int64_t back = clock_.NowMillis();
  auto closed = [&] {
    return N("SELECT COUNT(*) FROM circuit_breakers WHERE source = 'inbox' AND state = 'closed'") == 1 &&
           N("SELECT COUNT(*) FROM raw_injury_reports WHERE captured_at = 1707035400") == 1;
  };
  const int64_t caught_up = RunUntil(back + 3 * 3'600'000, kMinute, closed);
  ASSERT_TRUE(closed());
  Report("source back -> breaker closed and backlog imported after", caught_up - back);
  EXPECT_FALSE(Open("breaker_open:inbox"));
}

// 6. A schedule never fires (no scheduler running): the missed-fire detector raises a critical
//    incident, and the reconciler still produces the day's predictions before they are due.
TEST_F(FailureModesTest, AScheduleThatNeverFiresIsAnIncidentAndTheReconcilerStillMakesTheDay) {
  Start();
  scheduler_on_ = false;
  const int64_t due = Ms("2024-02-04T19:00:00Z");  // 60 min before the first tip
  RunUntil(Ms("2024-02-04T14:00:00Z"), 5 * kMinute);
  EXPECT_TRUE(Open("schedule_missed:predictions_today"));
  EXPECT_EQ(LivePredictions(), 0);
  const int64_t done = RunUntil(due, kMinute, [&] { return LivePredictions() > 0 && DueMet(kDate); });
  ASSERT_GT(LivePredictions(), 100);
  Report("predictions made by the reconciler alone, ahead of their deadline by", due - done);
  EXPECT_LT(done, due);
  EXPECT_GT(
      N(std::string("SELECT COUNT(*) FROM processor_runs WHERE trigger = 'self_heal' AND data_date = '") + kDate + "'"),
      0);
  EXPECT_EQ(N("SELECT COUNT(*) FROM deadlines WHERE deadline_key = 'predictions' AND data_date = '2024-02-04' AND "
              "status = 'met'"),
            1);
}

// 7. A stale model and a zero-pick day: the model guard raises both with their numbers, and
//    both resolve once a fresh model makes picks again.
TEST_F(FailureModesTest, AStaleModelAndAZeroPickDayRaiseModelGuardIncidents) {
  const std::string models = dir_.File("models");
  fs::create_directories(models);
  auto train = [&](const char* until) {
    pipeline::TrainingSet data;
    ASSERT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(data, pipeline::LoadTrainingSet(t, "2023-10-24", until));
                      return OkStatus();
                    })
                    .ok());
    auto model = pipeline::Model::Train(data, pipeline::TrainOptions{}, until);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_TRUE((*model)->Save(models + "/points-" + until + ".json").ok());
  };
  train("2023-12-01");
  config_.model_path = models;
  config_.min_edge = 50;  // the model's edges never reach it: no OVER/UNDER anywhere
  Start();
  RunUntil(Ms("2024-02-04T19:30:00Z"), 5 * kMinute);
  ASSERT_GT(LivePredictions(), 100);
  EXPECT_TRUE(Open("model_stale"));
  EXPECT_THAT(Summary("model_stale"), HasSubstr("2023-12-01"));
  EXPECT_TRUE(Open("zero_picks:2024-02-04"));
  EXPECT_EQ(N("SELECT COUNT(*) FROM incidents WHERE incident_key = 'zero_picks:2024-02-04' AND severity = 'critical'"),
            1);
  // A fresh model and the usual edge threshold: the next predictions make picks.
  train("2024-02-03");
  config_.min_edge = Config{}.min_edge;
  Start();
  engine::RunOutcome again = runner_->Execute(*runner_->Find("player_prop_predictions"), kDate, kDate, "manual");
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  Step(kMinute);
  EXPECT_FALSE(Open("model_stale"));
  EXPECT_FALSE(Open("zero_picks:2024-02-04"));
}

// Degraded mode: without a fresh injury report the 08:00 ET predictions wait (listing why),
// and within two hours of the first tip they are made anyway, marked silver.
TEST_F(FailureModesTest, WithoutAFreshInjuryReportPredictionsWaitThenAreMadeAsSilver) {
  Exec("DELETE FROM raw_injury_reports WHERE report_date BETWEEN '2024-02-02' AND '2024-02-04'");
  Start();
  RunUntil(Ms("2024-02-04T17:00:00Z"), 5 * kMinute);
  EXPECT_EQ(LivePredictions(), 0);
  EXPECT_GT(N(std::string("SELECT COUNT(*) FROM processor_runs WHERE processor = 'player_prop_predictions' AND "
                          "data_date = '") +
              kDate +
              "' AND status = 'deferred' AND error_message LIKE "
              "'%no injury report in the 36 h before%'"),
            0);
  const int64_t final_window = Ms("2024-02-04T18:00:00Z");  // first tip - 2 h
  const int64_t made = RunUntil(Ms("2024-02-04T19:00:00Z"), kMinute, [&] { return LivePredictions() > 0; });
  ASSERT_GT(LivePredictions(), 100);
  Report("degraded predictions made after the final-retry window opened", made - final_window);
  EXPECT_GE(made, final_window);
  EXPECT_EQ(
      N(std::string("SELECT COUNT(*) FROM player_prop_predictions WHERE superseded_by IS NULL AND game_date = '") +
        kDate + "' AND quality_tier != 'silver'"),
      0);
}

}  // namespace
}  // namespace nbaprops
