// Group commit: commits that arrive together share one transaction; a failure in a shared
// transaction sends every member back to commit alone, so each gets its own outcome.
// Conformance: every case runs on SQLite and on PostgreSQL.
#include "engine/commit_group.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "engine/ledger.h"
#include "engine/queue.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::SideTableProcessor;

constexpr int64_t kT0 = 1'706'745'600'000;  // 2024-02-01T00:00:00Z

class CommitGroupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string skip;
    const std::string url = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip);
    if (url.empty()) GTEST_SKIP() << skip;
    store_ = nbaprops::testing::OpenTestStore(url);
    ASSERT_TRUE(store_->WithWrite([](store::Transaction& t) {
                  return t.Exec(SideTableProcessor::kTableSql).status();
                }).ok());
  }

  // Writes one executions row for `part`.
  static Status Insert(store::Transaction& t, const std::string& part) {
    return t.ExecLater("INSERT INTO executions (processor, part, run_id) VALUES ('side', ?, 0)", {part});
  }

  // Commits `body` for `part` on a thread of its own; the first one (the blocker) holds the
  // group's only slot until Release(), so the others queue up and form one group.
  void Start(const std::string& part, CommitGroup::Body body) {
    threads_.emplace_back([this, part, body = std::move(body)] {
      Status s = group_->Commit(
          body,
          [this, part] {
            std::lock_guard<std::mutex> lock(mu_);
            ++resets_[part];
          },
          part);
      std::lock_guard<std::mutex> lock(mu_);
      results_[part] = s;
    });
  }
  void StartBlocker() {
    Start("p0", [this](store::Transaction& t) -> Status {
      blocker_in_ = true;
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return released_; });
      return Insert(t, "p0");
    });
    WaitFor([this] { return blocker_in_.load(); });
  }
  void ReleaseWhenWaiting(int n) {
    WaitFor([&] { return group_->waiting() == n; });
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  static void WaitFor(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(done());
  }
  int64_t Rows(const std::string& part) {
    return Count(*store_, "SELECT COUNT(*) FROM executions WHERE part = '" + part + "'");
  }

  nbaprops::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<CommitGroup> group_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;                 // guarded by mu_
  std::map<std::string, Status> results_;  // guarded by mu_
  std::map<std::string, int> resets_;      // guarded by mu_
  std::atomic<bool> blocker_in_{false};
};

INSTANTIATE_TEST_SUITE_P(Backends, CommitGroupTest, nbaprops::testing::BackendValues(),
                         nbaprops::testing::BackendName);

TEST_P(CommitGroupTest, CommitsThatArriveTogetherShareOneTransactionInPartitionOrder) {
  group_ = std::make_unique<CommitGroup>(*store_, CommitGroupOptions{16, 1});
  StartBlocker();
  std::vector<std::string> order;
  for (const std::string part : {"p3", "p1", "p2"}) {
    Start(part, [&, part](store::Transaction& t) -> Status {
      order.push_back(part);  // the members run one after another, on the leader's thread
      return Insert(t, part);
    });
  }
  ReleaseWhenWaiting(3);
  for (const auto& [part, s] : results_) EXPECT_TRUE(s.ok()) << part << ": " << s.ToString();
  EXPECT_EQ(order, (std::vector<std::string>{"p1", "p2", "p3"}));
  EXPECT_EQ(group_->transactions(), 2);  // the blocker alone, then the three together
  EXPECT_EQ(group_->commits(), 3);
  EXPECT_EQ(group_->fallbacks(), 0);
  for (const char* part : {"p0", "p1", "p2", "p3"}) EXPECT_EQ(Rows(part), 1) << part;
  EXPECT_TRUE(resets_.empty());
}

TEST_P(CommitGroupTest, AFailingMemberFailsAloneAndTheOthersCommitExactlyOnce) {
  group_ = std::make_unique<CommitGroup>(*store_, CommitGroupOptions{16, 1});
  StartBlocker();
  for (const std::string part : {"p1", "p2", "p3"}) {
    Start(part, [part](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(Insert(t, part));
      // p2 fails after writing: its row goes with the shared transaction, and again alone.
      if (part == "p2") return InvalidArgumentError("p2's input is bad");
      return OkStatus();
    });
  }
  ReleaseWhenWaiting(3);
  EXPECT_TRUE(results_["p0"].ok());
  EXPECT_TRUE(results_["p1"].ok()) << results_["p1"].ToString();
  EXPECT_TRUE(results_["p3"].ok()) << results_["p3"].ToString();
  EXPECT_EQ(results_["p2"].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(results_["p2"].message(), "p2's input is bad");
  EXPECT_EQ(Rows("p1"), 1);
  EXPECT_EQ(Rows("p2"), 0);
  EXPECT_EQ(Rows("p3"), 1);
  // Blocker, the failed group, then each member alone.
  EXPECT_EQ(group_->transactions(), 5);
  EXPECT_EQ(group_->commits(), 0);
  EXPECT_EQ(group_->fallbacks(), 3);
  EXPECT_EQ(resets_, (std::map<std::string, int>{{"p1", 1}, {"p2", 1}, {"p3", 1}}));
}

// Through RunContext::CommitOutput, as the runner commits: a run that lost its lease fails with
// kAborted, its output discarded, and the runs it shared a transaction with succeed.
TEST_P(CommitGroupTest, ARunThatLostItsLeaseFailsAloneAndItsGroupSucceeds) {
  group_ = std::make_unique<CommitGroup>(*store_, CommitGroupOptions{16, 1});
  FakeClock clock(kT0);
  ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) -> Status {
                for (const char* part : {"p0", "p1", "p2", "p3"}) {
                  RunStart s{"side", 2, part, "", "manual", std::nullopt, 1, 0, std::nullopt};
                  RETURN_IF_ERROR(Ledger::Enqueue(t, s, clock.NowSeconds()).status());
                }
                return OkStatus();
              }).ok());
  auto claimed = Queue::ClaimBatch(*store_, "w1", clock.NowMillis(), 30'000, 7, 4);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 4u);
  std::map<std::string, int64_t> run_of;
  for (const ClaimedRun& c : *claimed) run_of[c.run.partition_key] = c.run.run_id;
  // p2's lease passes to another worker while its worker is still at work.
  ASSERT_TRUE(store_->WithWrite([&](store::Transaction& t) {
                return t.Exec("UPDATE processor_runs SET lease_token = 8 WHERE run_id = ?", {run_of["p2"]}).status();
              }).ok());
  std::map<std::string, std::unique_ptr<RunContext>> contexts;
  for (const auto& [part, id] : run_of) {
    auto ctx = std::make_unique<RunContext>(*store_, clock, id, part, "");
    ctx->lease_token = 7;
    ctx->started_at_ms = clock.NowMillis();
    ctx->commit_group = group_.get();
    contexts[part] = std::move(ctx);
  }
  auto commit = [&](const std::string& part, std::function<void()> first) {
    RunContext& ctx = *contexts[part];
    return [&ctx, part, first](store::Transaction& t) -> Status {
      if (first) first();
      ctx.records_out = 1;
      return Insert(t, part);
    };
  };
  // The runs commit through CommitOutput (which passes the group its own body), one per thread.
  auto run = [&](const std::string& part, std::function<void()> first) {
    threads_.emplace_back([&, part, first] {
      Status s = contexts[part]->CommitOutput(commit(part, first));
      std::lock_guard<std::mutex> lock(mu_);
      results_[part] = s;
    });
  };
  run("p0", [this] {
    blocker_in_ = true;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return released_; });
  });
  WaitFor([this] { return blocker_in_.load(); });
  for (const char* part : {"p1", "p2", "p3"}) run(part, nullptr);
  ReleaseWhenWaiting(3);
  for (const char* part : {"p0", "p1", "p3"}) {
    EXPECT_TRUE(results_[part].ok()) << part << ": " << results_[part].ToString();
    EXPECT_EQ(Rows(part), 1) << part;
    EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded' AND run_id = " +
                                 std::to_string(run_of[part])),
              1);
  }
  EXPECT_EQ(results_["p2"].code(), StatusCode::kAborted);
  EXPECT_EQ(results_["p2"].message(),
            "run " + std::to_string(run_of["p2"]) + " lost its lease (state 'running', lease taken over); its output "
            "is discarded");
  EXPECT_EQ(Rows("p2"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM run_transitions WHERE to_status = 'succeeded'"), 3);
  EXPECT_EQ(group_->fallbacks(), 3);
  // Each run's counters are what its own (last) attempt wrote.
  for (const auto& [part, ctx] : contexts) EXPECT_EQ(ctx->records_out, 1) << part;
}

}  // namespace
}  // namespace nbaprops::engine
