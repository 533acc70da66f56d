// The reconciler on a fake clock with a planner whose expectations are "processor X has executed
// for partition P" (counted in the side table) plus, optionally, a source input only the test can
// provide.
#include "engine/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/incidents.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::SideTableProcessor;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'706'745'600'000;  // 2024-02-01T00:00:00Z

class TestPlanner : public Planner {
 public:
  std::vector<std::string> partitions;
  int64_t due_ms = 0;
  bool need_source = false;  // expect a row in `source_files` for each partition (no processor makes it)

  StatusOr<std::vector<Expectation>> Plan(store::Transaction& t, int64_t, const std::string& only) override {
    std::vector<Expectation> out;
    for (const std::string& p : partitions) {
      if (!only.empty() && p != only) continue;
      if (need_source) {
        ASSIGN_OR_RETURN(auto n, t.QueryInt("SELECT COUNT(*) FROM source_files WHERE part = ?", {p}));
        out.push_back(Expectation{"", p, p, "source files", 1, n.value_or(0), false, due_ms, "file-" + p});
      }
      for (const char* proc : {"a", "b"}) {
        ASSIGN_OR_RETURN(auto n, t.QueryInt("SELECT COUNT(*) FROM executions WHERE processor = ? AND part = ?",
                                            {proc, p}));
        out.push_back(Expectation{proc, p, p, std::string(proc) + " output", 1, n.value_or(0), false, due_ms, ""});
      }
    }
    return out;
  }
};

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    clock_.SetMillis(kT0);
    store_ = nbaprops::testing::OpenTestStore(dir_.File("r.db"));
    ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) -> Status {
                  RETURN_IF_ERROR(t.Exec(SideTableProcessor::kTableSql).status());
                  return t.Exec("CREATE TABLE source_files (part TEXT)").status();
                }).ok());
    EngineOptions o;
    o.heartbeat_ms = 3'600'000;
    o.seed = 7;
    runner_ = std::make_unique<Runner>(*store_, clock_, o);
    auto a = std::make_unique<SideTableProcessor>("a");
    a_ = a.get();
    ASSERT_TRUE(runner_->Register(std::move(a)).ok());
    ASSERT_TRUE(runner_->Register(std::make_unique<SideTableProcessor>("b", std::vector<std::string>{"a"})).ok());
  }
  ReconcileResult Cycle(bool dry_run = false, ReconcilerOptions o = {}) {
    Reconciler r(*runner_, planner_, clock_, o);
    auto res = r.RunOnce(dry_run);
    EXPECT_TRUE(res.ok()) << res.status().ToString();
    return res.ok() ? *res : ReconcileResult{};
  }
  void Drain() { ASSERT_TRUE(runner_->DrainQueue().ok()); }
  int64_t Heals() { return Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE trigger = 'self_heal'"); }
  int64_t OpenIncidents(const std::string& prefix) {
    return Count(*store_, "SELECT COUNT(*) FROM incidents WHERE status = 'open' AND incident_key LIKE '" + prefix +
                              "%'");
  }

  nbaprops::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Runner> runner_;
  SideTableProcessor* a_ = nullptr;
  TestPlanner planner_;
};

TEST_F(ReconcilerTest, NothingScheduledMeansNothingToDo) {
  ReconcileResult r = Cycle();
  EXPECT_TRUE(r.planned.empty());
  EXPECT_EQ(r.enqueued, 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs"), 0);
}

TEST_F(ReconcilerTest, AHealthyPartitionEnqueuesNothing) {
  planner_.partitions = {"p1"};
  ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) {
                return t.Exec("INSERT INTO executions (processor, part) VALUES ('a', 'p1'), ('b', 'p1')").status();
              }).ok());
  ReconcileResult r = Cycle();
  EXPECT_EQ(r.planned.size(), 2u);
  EXPECT_TRUE(r.unmet.empty());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
}

TEST_F(ReconcilerTest, HealsTheMostUpstreamGapAndTheTriggerDoesTheRest) {
  planner_.partitions = {"p1"};
  ReconcileResult r = Cycle();
  ASSERT_EQ(r.unmet.size(), 2u);
  EXPECT_EQ(r.unmet[0].decision, "enqueued");
  EXPECT_EQ(r.unmet[1].decision, "waiting_for_upstream");  // b runs when a succeeds
  EXPECT_EQ(r.enqueued, 1);
  // The heal is a ledger row with its reason, and an incident linked to the run.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'a' AND trigger = 'self_heal' AND "
                           "details LIKE '%a output: 0 of 1%'"),
            1);
  std::optional<Incident> inc;
  ASSERT_TRUE(store_->WithRead([&](store::Transaction& t) -> Status {
                ASSIGN_OR_RETURN(inc, GetOpenIncident(t, "heal:a:p1"));
                return OkStatus();
              }).ok());
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->related_runs, std::vector<int64_t>{r.unmet[0].run_id});
  // A second cycle before the run executes sees it in progress and adds nothing.
  EXPECT_EQ(Cycle().unmet[0].decision, "in_progress");
  EXPECT_EQ(Heals(), 1);

  Drain();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions WHERE part = 'p1'"), 2);
  r = Cycle();
  EXPECT_TRUE(r.unmet.empty());
  EXPECT_EQ(OpenIncidents("heal:"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM heal_state"), 0);
}

TEST_F(ReconcilerTest, NotBeforeItIsDue) {
  planner_.partitions = {"p1"};
  planner_.due_ms = kT0 + 60'000;
  EXPECT_EQ(Cycle().unmet[0].decision, "not_due");
  EXPECT_EQ(Heals(), 0);
  clock_.AdvanceMillis(60'000);
  EXPECT_EQ(Cycle().unmet[0].decision, "enqueued");
}

TEST_F(ReconcilerTest, ABudgetPerCycle) {
  for (int i = 0; i < 12; ++i) planner_.partitions.push_back("p" + std::to_string(i));
  ReconcilerOptions o;
  o.max_heals_per_cycle = 5;
  ReconcileResult r = Cycle(false, o);
  EXPECT_EQ(r.enqueued, 5);
  EXPECT_EQ(Heals(), 5);
  int budget = 0;
  for (const auto& d : r.unmet) budget += d.decision == "budget";
  EXPECT_EQ(budget, 7);
  EXPECT_EQ(Cycle(false, o).enqueued, 5);
  EXPECT_EQ(Cycle(false, o).enqueued, 2);
  EXPECT_EQ(Heals(), 12);
}

TEST_F(ReconcilerTest, DryRunWritesNothing) {
  planner_.partitions = {"p1", "p2"};
  ReconcileResult r = Cycle(true);
  EXPECT_EQ(r.enqueued, 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM heal_state"), 0);
}

// A processor that keeps failing transiently: each heal runs its retries to a dead letter, and
// the next heal waits twice as long as the one before -- no retry storm.
TEST_F(ReconcilerTest, RepeatedHealsBackOffExponentially) {
  planner_.partitions = {"p1"};
  a_->fail = [](RunContext&) { return UnavailableError("source down"); };
  std::vector<int64_t> heal_minutes;
  for (int minute = 0; minute < 6 * 60; ++minute) {
    ReconcileResult r = Cycle();
    if (r.enqueued > 0) heal_minutes.push_back(minute);
    for (int i = 0; i < 60; i += 5) {  // drain retries as their backoff elapses
      Drain();
      clock_.AdvanceMillis(5'000);
    }
  }
  // Heals at 0, then after 1, 2, 4, 8, 16, 32, 60 (cap), 60... minutes (plus the minutes the
  // retries of each heal take to reach the dead letter).
  ASSERT_GE(heal_minutes.size(), 6u);
  EXPECT_LE(heal_minutes.size(), 14u);
  for (size_t i = 2; i < heal_minutes.size(); ++i) {
    EXPECT_GE(heal_minutes[i] - heal_minutes[i - 1], std::min<int64_t>(60, int64_t{1} << (i - 1))) << i;
  }
  EXPECT_EQ(OpenIncidents("heal:a:p1"), 1);
  // The source comes back: the next heal completes it and the incident resolves.
  a_->fail = nullptr;
  for (int minute = 0; minute < 90 && OpenIncidents("heal:") > 0; ++minute) {
    Cycle();
    Drain();
    Drain();
    clock_.AdvanceMillis(60'000);
  }
  EXPECT_EQ(OpenIncidents("heal:"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions WHERE part = 'p1'"), 2);
}

TEST_F(ReconcilerTest, APermanentDeadLetterWaitsForAPerson) {
  planner_.partitions = {"p1"};
  a_->fail = [](RunContext&) { return InvalidArgumentError("payload p1 is malformed"); };
  Cycle();
  Drain();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters WHERE status = 'open'"), 1);
  clock_.AdvanceMillis(24 * 3'600'000);
  ReconcileResult r = Cycle();
  EXPECT_EQ(r.unmet[0].decision, "dead_letter");
  EXPECT_GT(r.unmet[0].dead_letter_id, 0);
  EXPECT_EQ(Heals(), 1);
}

TEST_F(ReconcilerTest, MissingSourceDataRaisesAnIncidentAtItsDueTime) {
  planner_.partitions = {"p1"};
  planner_.need_source = true;
  planner_.due_ms = kT0 + 3'600'000;
  Cycle();
  EXPECT_EQ(OpenIncidents("missing_input:"), 0);  // not due yet
  clock_.AdvanceMillis(3'600'000);
  ReconcileResult r = Cycle();
  EXPECT_EQ(r.unmet[0].decision, "no_processor");
  EXPECT_EQ(OpenIncidents("missing_input:p1"), 1);
  std::optional<Incident> inc;
  ASSERT_TRUE(store_->WithRead([&](store::Transaction& t) -> Status {
                ASSIGN_OR_RETURN(inc, GetOpenIncident(t, "missing_input:p1"));
                return OkStatus();
              }).ok());
  EXPECT_THAT(inc->summary, HasSubstr("source files: 0 of 1 (missing: file-p1)"));
  ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) {
                return t.Exec("INSERT INTO source_files VALUES ('p1')").status();
              }).ok());
  Cycle();
  EXPECT_EQ(OpenIncidents("missing_input:"), 0);
}

}  // namespace
}  // namespace nbaprops::engine
