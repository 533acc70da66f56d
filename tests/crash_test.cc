// kill -9 a worker process in the middle of a long processor: the run is failed as
// lease_expired within lease + heartbeat, retried by another worker, and every output table ends
// identical to a clean run's, with both attempts in the ledger.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/process_util.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using testing::Alive;
using testing::Bin;
using testing::Count;
using testing::Sh;
using testing::Spawn;
using testing::TempDir;
using Steady = std::chrono::steady_clock;

// Row-by-row text of every analytics table, ordered by key.
std::string Checksum(store::Store& s) {
  std::string out;
  for (const char* table : {"analytics_player_game_summary", "analytics_team_offense_game_summary",
                            "analytics_team_defense_game_summary", "analytics_upcoming_team_game_context",
                            "analytics_upcoming_player_game_context", "precompute_ml_feature_store"}) {
    EXPECT_TRUE(s.WithRead([&](store::Transaction& t) {
                   return t.Query(std::string("SELECT * FROM ") + table + " ORDER BY game_id, 3", {},
                                  [&](const store::Row& r) {
                                    for (int i = 0; i < r.size(); ++i) out += r.Text(i) + "|";
                                    out += "\n";
                                    return OkStatus();
                                  });
                 }).ok());
  }
  return out;
}

TEST(CrashTest, KilledWorkerIsDetectedRetriedAndOutputsMatchACleanRun) {
  TempDir dir;
  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string clean = dir.File("clean.db"), crash = dir.File("crash.db");
  // Clean: one process, in order.
  ASSERT_EQ(Sh(Bin() + " init --db " + clean + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + clean + " > /dev/null"), 0);
  // The first three weeks of the season (every phase runs for them; earlier dates are all there).
  const std::string range = " --from 2023-10-24 --to 2023-11-13";
  ASSERT_EQ(Sh(Bin() + " backfill -q" + range + " --db " + clean + " > /dev/null"), 0);

  // Crash: the same season queued for worker processes.
  ASSERT_EQ(Sh(Bin() + " init --db " + crash + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + crash + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " backfill --enqueue" + range + " --db " + crash + " > /dev/null"), 0);
  const std::string lease = "NBAPROPS_LEASE_MS=1000 NBAPROPS_HEARTBEAT_MS=200";
  // Worker 1 blocks inside the first player_game_summary it claims (test hook), heartbeating.
  pid_t w1 = Spawn(lease + " NBAPROPS_TEST_BLOCK=player_game_summary:600000", "worker --workers 1 --db " + crash,
                   dir.File("w1.log"));
  ASSERT_GT(w1, 0);
  auto store = testing::OpenTestStore(crash);
  int64_t run_id = 0;
  for (int i = 0; i < 200 && run_id == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    run_id = Count(*store, "SELECT COALESCE(MAX(run_id), 0) FROM processor_runs WHERE status = 'running' AND "
                           "processor = 'player_game_summary' AND worker_id LIKE '%:" + std::to_string(w1) + "/%'");
  }
  ASSERT_GT(run_id, 0) << "worker 1 never claimed a run";
  // Its heartbeats keep the lease alive well past the lease length.
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  EXPECT_EQ(Count(*store, "SELECT status = 'running' FROM processor_runs WHERE run_id = " + std::to_string(run_id)), 1);

  // Worker 2 (a full serve: reaper + workers) runs everything else; then worker 1 dies.
  pid_t w2 = Spawn(lease, "serve --workers 2 --until-idle --db " + crash, dir.File("w2.log"));
  ASSERT_GT(w2, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(::kill(w1, SIGKILL), 0);
  auto killed_at = Steady::now();
  double detected_ms = -1;
  while (std::chrono::duration<double>(Steady::now() - killed_at).count() < 10) {
    if (Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(run_id) +
                          " AND status = 'failed' AND error_category = 'lease_expired'") == 1) {
      detected_ms = std::chrono::duration<double, std::milli>(Steady::now() - killed_at).count();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(detected_ms, 0) << "the killed worker's run was never reaped";
  // lease 1000 ms + heartbeat 200 ms, plus the reaper's 200 ms pass and this test's polling.
  EXPECT_LT(detected_ms, 1000 + 200 + 400) << detected_ms;
  RecordProperty("detected_ms", static_cast<int>(detected_ms));
  std::printf("lease expiry detected %.0f ms after kill -9 (lease 1000 ms, heartbeat 200 ms)\n", detected_ms);

  for (int i = 0; i < 600 && Alive(w2); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_FALSE(Alive(w2)) << "serve --until-idle did not finish";

  // Both attempts are in the ledger; the retry succeeded on the other worker.
  std::string part;
  ASSERT_TRUE(store->WithRead([&](store::Transaction& t) -> Status {
                ASSIGN_OR_RETURN(auto p, t.QueryText("SELECT partition_key FROM processor_runs WHERE run_id = ?", {run_id}));
                part = p.value_or("");
                return OkStatus();
              }).ok());
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE processor = 'player_game_summary' AND "
                          "partition_key = '" + part + "' AND attempt = 2 AND trigger = 'retry' AND status = "
                          "'succeeded' AND caused_by_run_id = " + std::to_string(run_id)),
            1);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running', 'dead')"), 0);
  auto clean_store = testing::OpenTestStore(clean);
  EXPECT_EQ(Checksum(*store), Checksum(*clean_store));
  EXPECT_GT(Count(*store, "SELECT COUNT(*) FROM analytics_player_game_summary"), 3000);  // 21 days of box scores
  EXPECT_GT(Count(*store, "SELECT COUNT(*) FROM precompute_ml_feature_store"), 3000);
}

// 8. The process is killed during a backfill and restarted: the restarted backfill reaps the dead
// process's runs once their lease lapses, finishes the range, and every output matches a clean run.
// `range_days` is the backfill's --range-days; the runs left running are the dates of the range
// whose player_daily_cache was in progress (all 11 dates of the range, or the one date).
void KillABackfillMidwayAndRestart(const std::string& range_days, int64_t left_running) {
  TempDir dir;
  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string clean = dir.File("clean.db"), crash = dir.File("crash.db");
  const std::string range = " --from 2023-10-24 --to 2023-11-03";
  for (const std::string& db : {clean, crash}) {
    ASSERT_EQ(Sh(Bin() + " init --db " + db + " > /dev/null"), 0);
    ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + db + " > /dev/null"), 0);
  }
  // The clean run goes date by date: the outputs of a range must be those of single dates.
  ASSERT_EQ(Sh(Bin() + " backfill -q --range-days 1" + range + " --db " + clean + " > /dev/null"), 0);

  const std::string lease = "NBAPROPS_LEASE_MS=1000 NBAPROPS_HEARTBEAT_MS=200";
  // Midway: the backfill hangs inside the daily cache of its 6th date, having finished five.
  pid_t b1 = Spawn(lease + " NBAPROPS_TEST_BLOCK=player_daily_cache/2023-10-29:600000",
                   "backfill -q" + range_days + range + " --db " + crash, dir.File("b1.log"));
  ASSERT_GT(b1, 0);
  auto store = testing::OpenTestStore(crash);
  int64_t run_id = 0;
  for (int i = 0; i < 600 && run_id == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    run_id = Count(*store, "SELECT COALESCE(MAX(run_id), 0) FROM processor_runs WHERE status = 'running' AND "
                           "processor = 'player_daily_cache' AND partition_key = '2023-10-29'");
  }
  ASSERT_GT(run_id, 0) << "the backfill never reached 2023-10-29";
  ASSERT_EQ(::kill(b1, SIGKILL), 0);
  for (int i = 0; i < 100 && Alive(b1); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), left_running);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running' AND processor = "
                          "'player_daily_cache'"),
            left_running);
  // Nothing of a range in progress was committed; date by date, the dates before it were.
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM precompute_player_daily_cache WHERE game_date >= '2023-10-29'"), 0);
  const int64_t before = Count(*store, "SELECT COUNT(*) FROM precompute_player_daily_cache");
  if (left_running > 1) {
    EXPECT_EQ(before, 0);
  } else {
    EXPECT_GT(before, 0);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // its lease (1 s) lapses

  ASSERT_EQ(Sh(lease + " " + Bin() + " backfill -q" + range_days + range + " --db " + crash + " > " +
               dir.File("b2.log") + " 2>&1"),
            0);
  // Every run left behind failed as lease_expired, and its retry (attempt 2) succeeded.
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'failed' AND error_category = "
                          "'lease_expired'"),
            left_running);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(run_id) +
                              " AND status = 'failed' AND error_category = 'lease_expired'"),
            1);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE caused_by_run_id = " + std::to_string(run_id) +
                              " AND attempt = 2 AND status = 'succeeded'"),
            1);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running', 'dead')"), 0);
  // One succeeded daily-cache run per date, no more, no less.
  EXPECT_EQ(Count(*store, "SELECT COUNT(DISTINCT partition_key) FROM processor_runs WHERE processor = "
                          "'player_daily_cache' AND status = 'succeeded'"),
            11);
  auto clean_store = testing::OpenTestStore(clean);
  EXPECT_EQ(Checksum(*store), Checksum(*clean_store));
  EXPECT_GT(Count(*store, "SELECT COUNT(*) FROM precompute_ml_feature_store"), 1000);
}

TEST(CrashTest, ABackfillKilledMidwayAndRestartedMatchesACleanRun) {
  KillABackfillMidwayAndRestart(" --range-days 1", 1);
}

// The backfill runs phase 4 as ranges (the default): the kill leaves the whole range running.
TEST(CrashTest, ABackfillKilledInsideARangeRunAndRestartedMatchesACleanRun) { KillABackfillMidwayAndRestart("", 11); }

}  // namespace
}  // namespace nbaprops
