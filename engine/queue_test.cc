// Leases, heartbeats, the reaper, fencing, retries and dead letters, on a fake clock (no sleeps).
// Conformance: every case runs on SQLite and on PostgreSQL.
#include "engine/queue.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "engine/runner.h"
#include "engine/worker_pool.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

constexpr int64_t kT0 = 1'706'745'600'000;  // 2024-02-01T00:00:00Z

using nbaprops::testing::SideTableProcessor;

class QueueTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string skip;
    const std::string url = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip);
    if (url.empty()) GTEST_SKIP() << skip;
    store_ = OpenTestStore(url);
    ASSERT_TRUE(
        store_->WithWrite([](store::Transaction& t) { return t.Exec(SideTableProcessor::kTableSql).status(); }).ok());
    EngineOptions o;
    o.lease_ms = 30'000;
    o.heartbeat_ms = 3'600'000;  // the background heartbeat never fires during a test; tests beat by hand
    o.seed = 42;
    o.worker_id = "w1";
    runner_ = std::make_unique<Runner>(*store_, clock_, o);
    auto p = std::make_unique<SideTableProcessor>();
    side_ = p.get();
    ASSERT_TRUE(runner_->Register(std::move(p)).ok());
  }
  int64_t Enqueue(const std::string& part) {
    int64_t id = 0;
    EXPECT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) -> Status {
                      RunStart s{"side", 2, part, "", "manual", std::nullopt, 1, 0, std::nullopt};
                      ASSIGN_OR_RETURN(id, Ledger::Enqueue(t, s, clock_.NowSeconds()));
                      return OkStatus();
                    })
                    .ok());
    return id;
  }
  ClaimedRun Claim(const std::string& worker = "w1", int64_t token = 7) {
    auto c = Queue::ClaimNext(*store_, worker, clock_.NowMillis(), 30'000, token);
    EXPECT_TRUE(c.ok() && c->has_value());
    return **c;
  }
  std::string State(int64_t run_id) {
    std::string s;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto r, Ledger::Get(t, run_id));
                      s = r->status + (r->error_category.empty() ? "" : "/" + r->error_category);
                      return OkStatus();
                    })
                    .ok());
    return s;
  }

  TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Runner> runner_;
  SideTableProcessor* side_ = nullptr;
};

// Conformance: every case runs on SQLite and on PostgreSQL.
INSTANTIATE_TEST_SUITE_P(Backends, QueueTest, nbaprops::testing::BackendValues(), nbaprops::testing::BackendName);

TEST_P(QueueTest, NeverHeartbeatedRunIsReapedWhenItsLeaseExpires) {
  int64_t id = Enqueue("p1");
  Claim();
  clock_.AdvanceMillis(29'999);
  EXPECT_TRUE(runner_->Reap()->empty());
  EXPECT_EQ(State(id), "running");
  clock_.AdvanceMillis(1);
  auto reaped = runner_->Reap();
  ASSERT_EQ(reaped->size(), 1u);
  EXPECT_EQ(State(id), "failed/lease_expired");
  // The retry is queued as attempt 2, caused by the reaped run, not runnable before its backoff.
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND attempt = 2 AND "
                  "trigger = 'retry' AND caused_by_run_id = " +
                      std::to_string(id)),
            1);
}

// A worker of this host whose process is gone need not be waited for: its lease is broken at
// once (a killed `backfill` re-run straight away finds its run claimable, not "already running").
// A live process, another host and an id that is not "<host>:<pid>" all wait for the lease.
TEST_P(QueueTest, ARunOfAWorkerProcessThatIsGoneIsReapedBeforeItsLeaseExpires) {
  char host[256] = "";
  ASSERT_EQ(::gethostname(host, sizeof host - 1), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);  // reaped: no such process any more
  const std::string dead = std::string(host) + ":" + std::to_string(child);
  const std::string alive = std::string(host) + ":" + std::to_string(::getppid()) + "/w0";
  EXPECT_TRUE(Runner::WorkerGone(dead));
  EXPECT_TRUE(Runner::WorkerGone(dead + "/w2"));
  EXPECT_FALSE(Runner::WorkerGone(alive));
  EXPECT_FALSE(Runner::WorkerGone("elsewhere.example:" + std::to_string(child)));
  EXPECT_FALSE(Runner::WorkerGone("w1"));
  EXPECT_FALSE(Runner::WorkerGone(std::string(host) + ":x" + std::to_string(child)));

  const int64_t gone = Enqueue("p1");
  Claim(dead + "/w1", 7);
  const int64_t live = Enqueue("p2");
  Claim(alive, 8);
  clock_.AdvanceMillis(1'000);
  auto reaped = runner_->Reap();
  ASSERT_TRUE(reaped.ok()) << reaped.status().ToString();
  EXPECT_EQ(*reaped, std::vector<int64_t>{gone});
  EXPECT_EQ(State(gone), "failed/lease_expired");
  EXPECT_EQ(State(live), "running");
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND attempt = 2 AND "
                  "caused_by_run_id = " +
                      std::to_string(gone)),
            1);
}

TEST_P(QueueTest, HeartbeatJustBeforeExpiryKeepsTheLease) {
  int64_t id = Enqueue("p1");
  ClaimedRun c = Claim();
  clock_.AdvanceMillis(29'999);
  EXPECT_TRUE(*Queue::Heartbeat(*store_, id, c.lease_token, clock_.NowMillis(), 30'000));
  clock_.AdvanceMillis(2);  // past the original expiry
  EXPECT_TRUE(runner_->Reap()->empty());
  EXPECT_EQ(State(id), "running");
  clock_.AdvanceMillis(30'000);
  EXPECT_EQ(runner_->Reap()->size(), 1u);
}

TEST_P(QueueTest, AHeartbeatAfterExpiryCannotResurrectTheLease) {
  int64_t id = Enqueue("p1");
  ClaimedRun c = Claim();
  clock_.AdvanceMillis(30'001);
  EXPECT_FALSE(*Queue::Heartbeat(*store_, id, c.lease_token, clock_.NowMillis(), 30'000));
  EXPECT_FALSE(*Queue::Heartbeat(*store_, id, c.lease_token + 1, clock_.NowMillis(), 30'000));
}

// The heartbeat thread extends every lease of its process in one transaction (150 leases: more
// than one statement's worth); a lease taken over by another worker is not extended.
TEST_P(QueueTest, OneHeartbeatExtendsEveryLiveLeaseAndNoLostOne) {
  constexpr int kRuns = 150;
  for (int i = 0; i < kRuns; ++i) Enqueue("p" + std::to_string(i));
  auto claimed = Queue::ClaimBatch(*store_, "w1", clock_.NowMillis(), 30'000, 7, kRuns);
  ASSERT_TRUE(claimed.ok() && claimed->size() == static_cast<size_t>(kRuns));
  std::map<int64_t, int64_t> leases;
  for (const ClaimedRun& c : *claimed) leases[c.run.run_id] = c.lease_token;
  const int64_t taken = claimed->back().run.run_id;
  ASSERT_TRUE(store_
                  ->WithWrite([&](store::Transaction& t) {
                    return t.Exec("UPDATE processor_runs SET lease_token = 8 WHERE run_id = ?", {taken}).status();
                  })
                  .ok());
  clock_.AdvanceMillis(29'999);
  auto extended = Queue::Heartbeat(*store_, leases, clock_.NowMillis(), 30'000);
  ASSERT_TRUE(extended.ok()) << extended.status().ToString();
  EXPECT_EQ(*extended, kRuns - 1);
  clock_.AdvanceMillis(2);  // past the claim's lease: only the run that was not extended expires
  auto reaped = runner_->Reap();
  ASSERT_TRUE(reaped.ok());
  EXPECT_EQ(*reaped, std::vector<int64_t>{taken});
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), kRuns - 1);
}

TEST_P(QueueTest, ALostLeaseCannotCommitEvenAfterTheRetryIsRunning) {
  Enqueue("p1");
  // Worker 1 stalls past its lease; the reaper fails its run and a retry is claimed by worker 2
  // before worker 1 wakes up and tries to commit.
  side_->before_commit = [&](RunContext& ctx) {
    clock_.AdvanceMillis(31'000);
    ASSERT_EQ(runner_->Reap()->size(), 1u);
    clock_.AdvanceMillis(10 * 60'000);  // past any backoff
    ClaimedRun retry = Claim("w2", 99);
    EXPECT_EQ(retry.run.attempt, 2);
    EXPECT_NE(retry.run.run_id, ctx.run_id());
  };
  auto first = runner_->RunNext("w1");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->status.code(), StatusCode::kAborted);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions"), 0);  // the late commit was discarded
  // Same run id, wrong token: also fenced.
  side_->before_commit = nullptr;
  RunContext forged(*store_, clock_, Count(*store_, "SELECT MAX(run_id) FROM processor_runs"), "p1", "");
  forged.lease_token = 12345;
  EXPECT_EQ(forged.CommitOutput([](store::Transaction&) { return OkStatus(); }).code(), StatusCode::kAborted);
}

TEST_P(QueueTest, RetryDelaysGrowExponentiallyWithFullJitterAndACap) {
  RetryPolicy p;  // base 2 s, factor 2, cap 5 min, 5 attempts
  EXPECT_EQ(DecideOnFailure(FailureCategory::kSourceUnavailable, 1, p, 0.999999).delay_ms, 1999);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kSourceUnavailable, 2, p, 0.5).delay_ms, 2000);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kTimeout, 4, p, 1.0).delay_ms, 16000);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kTimeout, 4, p, 0.0).delay_ms, 0);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kRateLimited, 5, p, 0.5).action, FailureAction::kDeadLetter);
  p.max_attempts = 20;
  EXPECT_EQ(DecideOnFailure(FailureCategory::kRateLimited, 12, p, 1.0).delay_ms, 300'000);  // capped
  EXPECT_EQ(DecideOnFailure(FailureCategory::kUpstreamIncomplete, 1, p, 0.3).action, FailureAction::kDefer);
  for (auto c : {FailureCategory::kBadInput, FailureCategory::kSchemaMismatch, FailureCategory::kConfigError,
                 FailureCategory::kInternal}) {
    EXPECT_EQ(DecideOnFailure(c, 1, p, 0.5).action, FailureAction::kDeadLetter);
  }
}

TEST_P(QueueTest, TransientFailuresRetryOnScheduleThenDeadLetter) {
  int attempts = 0;
  side_->fail = [&](RunContext&) {
    ++attempts;
    return UnavailableError("source down");
  };
  Enqueue("p1");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(runner_->DrainQueue().ok());
    // Not runnable before its not_before.
    EXPECT_EQ(runner_->DrainQueue()->size(), 0u);
    clock_.AdvanceMillis(5 * 60'000);
  }
  EXPECT_EQ(attempts, 5);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'failed'"), 4);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'dead' AND attempt = 5"), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued'"), 0);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM dead_letters WHERE status = 'open' AND category = "
                  "'source_unavailable' AND partition_key = 'p1'"),
            1);
  // Every retry waited: its not_before lies after the failure that caused it.
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs r JOIN processor_runs c ON r.caused_by_run_id = "
                  "c.run_id WHERE r.trigger = 'retry' AND r.not_before < c.finished_at * 1000"),
            0);
}

// Upstream incomplete: re-checked at growing intervals, never counted as attempts, dead-lettered
// only once the partition has waited defer_max (36 h by default) -- not after 5 quick looks.
TEST_P(QueueTest, DeferralsAreBoundedByTimeNotAttempts) {
  int checks = 0;
  side_->fail = [&](RunContext&) {
    ++checks;
    return FailedPreconditionError("upstream a has not run for p1");
  };
  Enqueue("p1");
  // Drive the clock in 1-minute steps for 40 hours, draining whatever is due.
  int64_t dead_at = -1;
  for (int minute = 0; minute <= 40 * 60 && dead_at < 0; ++minute) {
    ASSERT_TRUE(runner_->DrainQueue().ok());
    if (Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'dead'") > 0) dead_at = minute;
    clock_.AdvanceMillis(60'000);
  }
  EXPECT_GE(dead_at, 36 * 60);
  EXPECT_LE(dead_at, 36 * 60 + 16);  // the last check may come up to one cap (15 min) late
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT attempt) FROM processor_runs"), 1);
  // Growing intervals: a few dozen checks over 36 hours, not one every 5 s.
  EXPECT_GT(checks, 36 * 4);
  EXPECT_LT(checks, 36 * 4 + 40);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM dead_letters WHERE category = 'upstream_incomplete' AND "
                  "suggested_action LIKE '%after 36 h%'"),
            1);
  // Every deferred run carries the time the deferrals began.
  EXPECT_EQ(
      Count(*store_, "SELECT COUNT(DISTINCT deferred_since) FROM processor_runs WHERE deferred_since IS NOT NULL"), 1);
}

TEST_P(QueueTest, DeferralDelaysGrowWithTheWaitUpToTheCap) {
  RetryPolicy p;
  EXPECT_EQ(DecideOnFailure(FailureCategory::kUpstreamIncomplete, 1, p, 0.5, 0).delay_ms, 5'000);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kUpstreamIncomplete, 1, p, 0.5, 60'000).delay_ms, 15'000);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kUpstreamIncomplete, 9, p, 0.5, 3'600'000).delay_ms, 900'000);
  EXPECT_EQ(DecideOnFailure(FailureCategory::kUpstreamIncomplete, 9, p, 0.5, p.defer_max_ms).action,
            FailureAction::kDeadLetter);
}

TEST_P(QueueTest, PoisonInputIsDeadLetteredAtOnceAndDlqRetryCompletesItOnceFixed) {
  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) -> Status {
                    RETURN_IF_ERROR(t.Exec("CREATE TABLE inputs (part TEXT, ok INTEGER)").status());
                    return t.Exec("INSERT INTO inputs VALUES ('p1', 0)").status();
                  })
                  .ok());
  int attempts = 0;
  // The processor's input is bad until someone fixes it.
  side_->fail = [&](RunContext& ctx) -> Status {
    ++attempts;
    int64_t ok = 0;
    RETURN_IF_ERROR(ctx.store().WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto v, t.QueryInt("SELECT ok FROM inputs WHERE part = ?", {ctx.partition_key()}));
      ok = v.value_or(0);
      return OkStatus();
    }));
    if (!ok) return InvalidArgumentError("input p1 is malformed");
    return ctx.CommitOutput([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec("INSERT INTO executions (part) VALUES (?)", {ctx.partition_key()}).status());
      ctx.records_out = 1;
      return OkStatus();
    });
  };
  Enqueue("p1");
  ASSERT_TRUE(runner_->DrainQueue().ok());
  clock_.AdvanceMillis(60 * 60'000);
  ASSERT_TRUE(runner_->DrainQueue().ok());
  EXPECT_EQ(attempts, 1);  // a permanent error is not retried
  int64_t dl = Count(*store_, "SELECT id FROM dead_letters WHERE status = 'open' AND category = 'bad_input'");
  ASSERT_GT(dl, 0);

  ASSERT_TRUE(
      store_->WithWrite([](store::Transaction& t) { return t.Exec("UPDATE inputs SET ok = 1").status(); }).ok());
  ASSERT_TRUE(
      store_
          ->WithWrite([&](store::Transaction& t) { return Queue::RetryDeadLetter(t, dl, clock_.NowMillis()).status(); })
          .ok());
  ASSERT_TRUE(runner_->DrainQueue().ok());
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions"), 1);
  EXPECT_EQ(Count(*store_, "SELECT status = 'retried' FROM dead_letters WHERE id = " + std::to_string(dl)), 1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded' AND trigger = 'manual'"), 1);
  // A retried dead letter cannot be retried again.
  EXPECT_EQ(
      store_
          ->WithWrite([&](store::Transaction& t) { return Queue::RetryDeadLetter(t, dl, clock_.NowMillis()).status(); })
          .code(),
      StatusCode::kFailedPrecondition);
}

TEST_P(QueueTest, OneLiveRunPerPartition) {
  int64_t a = Enqueue("p1");
  EXPECT_EQ(Enqueue("p1"), a);
  Claim();
  EXPECT_EQ(Enqueue("p1"), a);  // running counts as live too
  EXPECT_NE(Enqueue("p2"), a);
  // The database refuses a second live row even if a caller bypasses Enqueue.
  Status st = store_->WithWrite([](store::Transaction& t) {
    return t
        .Exec(
            "INSERT INTO processor_runs (processor, phase, partition_key, status, trigger, queued_at) "
            "VALUES ('side', 2, 'p1', 'queued', 'manual', 0)")
        .status();
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
}

// Claimers in parallel (each thread with its own connection; on PostgreSQL they pass over each
// other's rows with SKIP LOCKED): every run is claimed exactly once, in priority order per claimer.
TEST_P(QueueTest, ConcurrentClaimersNeverClaimARunTwice) {
  constexpr int kRuns = 200, kWorkers = 4;
  for (int i = 0; i < kRuns; ++i) Enqueue("p" + std::to_string(i));
  std::vector<std::vector<int64_t>> claimed(kWorkers);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      while (true) {
        auto c = Queue::ClaimNext(*store_, "w" + std::to_string(w), clock_.NowMillis(), 30'000, 100 + w);
        if (!c.ok()) {
          ++errors;
          continue;
        }
        if (!c->has_value()) return;
        claimed[w].push_back((*c)->run.run_id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<int64_t> all;
  size_t total = 0;
  for (const auto& v : claimed) {
    total += v.size();
    all.insert(v.begin(), v.end());
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // oldest first (same priority and date)
  }
  EXPECT_EQ(total, static_cast<size_t>(kRuns));
  EXPECT_EQ(all.size(), static_cast<size_t>(kRuns));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), kRuns);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM run_transitions WHERE to_status = 'running'"), kRuns);
}

TEST_P(QueueTest, ABatchClaimTakesAtMostItsLimitInClaimOrder) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(Enqueue("p" + std::to_string(i)));
  auto first = Queue::ClaimBatch(*store_, "w1", clock_.NowMillis(), 30'000, 7, 3);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*first)[i].run.run_id, ids[i]);
    EXPECT_EQ((*first)[i].run.status, "running");
    EXPECT_EQ((*first)[i].lease_token, 7);
  }
  // Exactly the runs handed out are running, each with its one transition.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), 3);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM run_transitions WHERE to_status = 'running'"), 3);
  auto rest = Queue::ClaimBatch(*store_, "w2", clock_.NowMillis(), 30'000, 8, 50);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 7u);
  EXPECT_EQ(rest->front().run.run_id, ids[3]);
  EXPECT_EQ(rest->back().run.run_id, ids[9]);
  EXPECT_TRUE(Queue::ClaimBatch(*store_, "w3", clock_.NowMillis(), 30'000, 9, 5)->empty());
}

// A worker pool on either backend, with processors whose commits are partition-local (on
// PostgreSQL they commit side by side): every run executes once, and the downstream run of each
// partition, which needs both of its inputs, is triggered exactly once although its two inputs
// commit at the same moment.
TEST_P(QueueTest, SideBySideCommitsTriggerEachDownstreamRunExactlyOnce) {
  constexpr int kParts = 60;
  EngineOptions o;
  o.worker_id = "pool";
  Runner runner(*store_, SystemClock::Default(), o);
  for (auto [name, inputs] :
       {std::pair<std::string, std::vector<std::string>>{"a", {}}, {"b", {}}, {"c", {"a", "b"}}}) {
    auto p = std::make_unique<SideTableProcessor>(name, inputs);
    p->partition_local = true;
    ASSERT_TRUE(runner.Register(std::move(p)).ok());
  }
  ASSERT_TRUE(store_
                  ->WithWrite([&](store::Transaction& t) -> Status {
                    for (int i = 0; i < kParts; ++i) {
                      for (const char* name : {"a", "b"}) {
                        RunStart s{name, 2, "p" + std::to_string(i), "", "manual", std::nullopt, 1, 0, std::nullopt};
                        RETURN_IF_ERROR(Ledger::Enqueue(t, s, clock_.NowSeconds()).status());
                      }
                    }
                    return OkStatus();
                  })
                  .ok());
  WorkerPoolOptions po;
  po.threads = 4;
  po.idle_poll_ms = 20;
  po.reaper = false;
  WorkerPool pool(runner, po);
  pool.Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (pool.runs_executed() < 3 * kParts && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // nothing more may arrive
  pool.Stop();
  EXPECT_EQ(pool.runs_failed(), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions"), 3 * kParts);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT processor || '/' || part) FROM executions"), 3 * kParts);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'c'"), kParts);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status <> 'succeeded'"), 0);
}

}  // namespace
}  // namespace nbaprops::engine
