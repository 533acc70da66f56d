#include "engine/runner.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

// A generic processor writing `rows` rows into a test table for its partition.
class CountingProcessor : public Processor {
 public:
  CountingProcessor(std::string name, std::vector<std::string> inputs = {}) : name_(std::move(name)), inputs_(inputs) {}
  std::string name() const override { return name_; }
  int phase() const override { return 3; }
  std::vector<std::string> inputs() const override { return inputs_; }
  std::vector<std::string> output_tables() const override { return {"test_out"}; }
  bool range_runs() const override { return ranges; }
  Status Run(RunContext& ctx) override {
    if (before_commit) before_commit(ctx);
    if (!fail.ok()) return fail;
    if (skip_commit) return OkStatus();
    ctx.expected_min_rows = expected;
    return ctx.CommitOutput([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("DELETE FROM test_out WHERE part = ?", {ctx.partition_key()}).status());
      for (int i = 0; i < rows; ++i) {
        RETURN_IF_ERROR(t.Exec("INSERT INTO test_out (part, i) VALUES (?, ?)", {ctx.partition_key(), i}).status());
      }
      ctx.records_out = rows;
      return OkStatus();
    });
  }
  int rows = 3;
  int expected = 0;
  Status fail;
  bool skip_commit = false;
  bool ranges = false;
  std::function<void(RunContext&)> before_commit;

 private:
  std::string name_;
  std::vector<std::string> inputs_;
};

class RunnerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string skip;
    const std::string url = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip);
    if (url.empty()) GTEST_SKIP() << skip;
    store_ = OpenTestStore(url);
    ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) {
                  return t.Exec("CREATE TABLE test_out (part TEXT, i INTEGER)").status();
                }).ok());
  }
  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_{1'700'000'000'000};
};

// Conformance: every case runs on SQLite and on PostgreSQL.
INSTANTIATE_TEST_SUITE_P(Backends, RunnerTest, nbaprops::testing::BackendValues(), nbaprops::testing::BackendName);

TEST_P(RunnerTest, SuccessWritesRowsAndLedgerInOneTransaction) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  RunOutcome o = runner.Execute(p, "2024-01-31", "2024-01-31", "manual");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 3);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded' AND records_out = 3"), 1);
  // queued -> running -> succeeded, all recorded as history
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM run_transitions WHERE run_id = " + std::to_string(o.run_id)), 3);
  // idempotent re-run: same rows, a second run (a new manual run is attempt 1; retries count up)
  o = runner.Execute(p, "2024-01-31", "2024-01-31", "manual");
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 3);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"), 2);
}

TEST_P(RunnerTest, ZeroRowsOnADayThatExpectsRowsIsIncompleteOutputNotSuccess) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.rows = 0;
  p.expected = 10;
  RunOutcome o = runner.Execute(p, "2024-01-31", "2024-01-31", "manual");
  EXPECT_EQ(o.category, FailureCategory::kIncompleteOutput);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'failed' AND "
                           "error_category = 'incomplete_output'"),
            1);
}

TEST_P(RunnerTest, FailureCategoriesComeFromTheStatusCode) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.fail = UnavailableError("source down");
  EXPECT_EQ(runner.Execute(p, "d", "", "manual").category, FailureCategory::kSourceUnavailable);
  p.fail = InvalidArgumentError("bad row");
  EXPECT_EQ(runner.Execute(p, "d", "", "manual").category, FailureCategory::kBadInput);
  p.fail = DataLossError("field renamed");
  EXPECT_EQ(runner.Execute(p, "d", "", "manual").category, FailureCategory::kSchemaMismatch);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 0);
}

TEST_P(RunnerTest, ReturningOkWithoutCommittingIsAnInternalError) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.skip_commit = true;
  RunOutcome o = runner.Execute(p, "d", "", "manual");
  EXPECT_EQ(o.category, FailureCategory::kInternal);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"), 0);
}

TEST_P(RunnerTest, ARunThatIsNoLongerRunningCannotCommit) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  // Something else (a reaper, an operator) fails the run while the processor works.
  p.before_commit = [&](RunContext& ctx) {
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) {
                  return t.Exec("UPDATE processor_runs SET status = 'failed' WHERE run_id = ?", {ctx.run_id()}).status();
                }).ok());
  };
  RunOutcome o = runner.Execute(p, "d", "", "manual");
  EXPECT_EQ(o.status.code(), StatusCode::kAborted);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 0);
}

// A processor the runner does not have registered (the import's store_payload holds the file's
// bytes in memory) cannot be run from the queue: a queued retry would only dead-letter as "no
// processor named ...". Its failures queue nothing, whether it returned one or its lease lapsed.
TEST_P(RunnerTest, AnUnregisteredProcessorsFailureQueuesNoRetryTheCallerOwnsIt) {
  EngineOptions o;
  o.lease_ms = 1000;
  Runner runner(*store_, clock_, o);
  CountingProcessor loose("loose");
  loose.fail = UnavailableError("disk I/O error");
  RunOutcome out = runner.Execute(loose, "file:/in/a.csv", "", "import");
  EXPECT_EQ(out.category, FailureCategory::kSourceUnavailable);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'failed'"), 1);
  // The lease lapses on a second attempt whose failure could not be recorded.
  loose.fail = OkStatus();
  loose.before_commit = [&](RunContext&) { clock_.AdvanceMillis(5000); };
  loose.skip_commit = true;
  (void)runner.Execute(loose, "file:/in/a.csv", "", "import");
  ASSERT_TRUE(runner.Reap().ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running', 'dead')"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters"), 0);
  // A registered one gets its retry.
  auto registered = std::make_unique<CountingProcessor>("kept");
  registered->fail = UnavailableError("disk I/O error");
  CountingProcessor* kept = registered.get();
  ASSERT_TRUE(runner.Register(std::move(registered)).ok());
  (void)runner.Execute(*kept, "d", "d", "manual");
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'kept' AND status = 'queued' AND "
                           "trigger = 'retry'"),
            1);
}

TEST_P(RunnerTest, EnqueueKeepsOneLiveRunAndDrainRunsIt) {
  Runner runner(*store_, clock_);
  ASSERT_TRUE(runner.Register(std::make_unique<CountingProcessor>("a")).ok());
  ASSERT_TRUE(runner.Register(std::make_unique<CountingProcessor>("b", std::vector<std::string>{"a"})).ok());
  EXPECT_EQ(runner.Register(std::make_unique<CountingProcessor>("c", std::vector<std::string>{"zzz"})).code(),
            StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) -> Status {
                RunStart s{"a", 3, "2024-01-31", "2024-01-31", "manual", std::nullopt, 1, 0, std::nullopt};
                ASSIGN_OR_RETURN(int64_t id1, Ledger::Enqueue(t, s, 1));
                ASSIGN_OR_RETURN(int64_t id2, Ledger::Enqueue(t, s, 2));
                EXPECT_EQ(id1, id2);
                return OkStatus();
              }).ok());
  auto outcomes = runner.DrainQueue();
  ASSERT_TRUE(outcomes.ok());
  // a's success enqueued b (its only input) in the same transaction.
  ASSERT_EQ(outcomes->size(), 2u);
  EXPECT_TRUE((*outcomes)[0].status.ok());
  EXPECT_EQ((*outcomes)[1].processor, "b");
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'b' AND trigger = 'upstream' AND "
                           "caused_by_run_id = " + std::to_string((*outcomes)[0].run_id)),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued'"), 0);
  ASSERT_EQ(runner.InOrder().size(), 2u);
  EXPECT_EQ(runner.InOrder()[0]->name(), "a");
}

// A range run: one ledger run per date with its row count and its own downstream trigger, and
// every date's output committed at the end in one transaction (none is visible before).
TEST_P(RunnerTest, ARangeRunCommitsEveryDateAtOnceWithALedgerRunPerDate) {
  Runner runner(*store_, clock_);
  auto a = std::make_unique<CountingProcessor>("a");
  CountingProcessor* pa = a.get();
  ASSERT_TRUE(runner.Register(std::move(a)).ok());
  ASSERT_TRUE(runner.Register(std::make_unique<CountingProcessor>("b", std::vector<std::string>{"a"})).ok());
  pa->ranges = true;
  std::vector<int64_t> seen;
  pa->before_commit = [&](RunContext&) {
    seen.push_back(Count(*store_, "SELECT COUNT(*) FROM test_out"));
    clock_.AdvanceMillis(10);  // each date computes for 10 ms
  };
  const std::vector<std::string> dates = {"2024-01-29", "2024-01-30", "2024-01-31"};
  std::vector<RunOutcome> out = runner.ExecuteRange(*pa, dates, "backfill");
  ASSERT_EQ(out.size(), 3u);
  for (const RunOutcome& o : out) {
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(o.records_out, 3);
  }
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 9);
  // A date's duration is its own computing, not the time until the range committed.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'a' AND duration_ms = 10"), 3);
  for (const std::string& d : dates) {
    EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'a' AND partition_key = '" + d +
                                 "' AND status = 'succeeded' AND records_out = 3 AND trigger = 'backfill'"),
              1)
        << d;
    EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'b' AND partition_key = '" + d +
                                 "' AND status = 'queued' AND trigger = 'upstream'"),
              1)
        << d;
  }
  // The downstream processor's queued runs are claimed by its own range.
  std::vector<RunOutcome> down = runner.ExecuteRange(*runner.Find("b"), dates, "backfill");
  for (const RunOutcome& o : down) EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status <> 'succeeded'"), 0);
}

// A date that fails inside a range commits nothing of the range; then every date runs by itself,
// so the failure is recorded against that date alone and the others succeed.
TEST_P(RunnerTest, ADateFailingInARangeFailsAloneAndTheOtherDatesCommit) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.ranges = true;
  p.before_commit = [&](RunContext& ctx) {
    p.fail = ctx.partition_key() == "2024-01-30" ? InvalidArgumentError("bad row on 2024-01-30") : OkStatus();
  };
  std::vector<RunOutcome> out = runner.ExecuteRange(p, {"2024-01-29", "2024-01-30", "2024-01-31"}, "backfill");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].status.ok());
  EXPECT_EQ(out[1].category, FailureCategory::kBadInput);
  EXPECT_NE(out[1].status.message().find("bad row on 2024-01-30"), std::string::npos) << out[1].status.ToString();
  EXPECT_TRUE(out[2].status.ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out WHERE part = '2024-01-30'"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 6);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"), 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('failed', 'dead') AND "
                           "partition_key = '2024-01-30' AND error_category = 'bad_input'"),
            1);
}

// Fencing holds for a range: a date whose run was taken away while the range computed cannot
// commit, and neither does the range; the other dates then commit one by one.
TEST_P(RunnerTest, ARangeWhoseDateLostItsRunCommitsOnlyTheDatesItStillOwns) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.ranges = true;
  p.before_commit = [&](RunContext& ctx) {
    if (ctx.partition_key() != "2024-01-31") return;
    // A reaper (or an operator) fails the first date's run while the range works on the last.
    ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) {
                  return t.Exec("UPDATE processor_runs SET status = 'failed' WHERE partition_key = '2024-01-29'")
                      .status();
                }).ok());
  };
  std::vector<RunOutcome> out = runner.ExecuteRange(p, {"2024-01-29", "2024-01-30", "2024-01-31"}, "backfill");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].status.code(), StatusCode::kAborted) << out[0].status.ToString();
  EXPECT_TRUE(out[1].status.ok()) << out[1].status.ToString();
  EXPECT_TRUE(out[2].status.ok()) << out[2].status.ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out WHERE part = '2024-01-29'"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out"), 6);
}

// A date another worker is running is not claimed by the range: it is reported as running.
TEST_P(RunnerTest, ARangeLeavesADateAnotherWorkerIsRunning) {
  Runner runner(*store_, clock_);
  CountingProcessor p("a");
  p.ranges = true;
  ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) -> Status {
                RunStart s{"a", 3, "2024-01-30", "2024-01-30", "manual", std::nullopt, 1, 0, std::nullopt};
                ASSIGN_OR_RETURN(int64_t id, Ledger::Enqueue(t, s, clock_.NowSeconds()));
                return Queue::ClaimRun(t, id, "elsewhere:1", clock_.NowMillis(), 60'000, 42).status();
              }).ok());
  std::vector<RunOutcome> out = runner.ExecuteRange(p, {"2024-01-29", "2024-01-30", "2024-01-31"}, "backfill");
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].status.ok());
  EXPECT_EQ(out[1].status.code(), StatusCode::kAlreadyExists) << out[1].status.ToString();
  EXPECT_TRUE(out[2].status.ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM test_out WHERE part = '2024-01-30'"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running' AND worker_id = "
                           "'elsewhere:1'"),
            1);
}

}  // namespace
}  // namespace nbaprops::engine
