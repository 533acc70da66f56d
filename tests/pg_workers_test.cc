// Several machines, one PostgreSQL database: four `nbaprops worker` processes run the bundled
// season's backfill from a PostgreSQL queue while one of them is killed with kill -9 in the middle
// of a run and the server itself is restarted (pg_ctl restart). Every output table must end
// identical, row for row, to a single process's run of the same backfill on SQLite; every
// (processor, partition) must have exactly one successful run, and nothing may be left queued,
// running or dead-lettered.
//
// The test starts its own throwaway cluster (tests/pg_cluster.sh) because it restarts it; the
// other PostgreSQL tests share the fixture's cluster.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/process_util.h"
#include "tests/table_snapshot.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using testing::Alive;
using testing::Bin;
using testing::Count;
using testing::Sh;
using testing::Spawn;
using testing::TempDir;

std::string ClusterScript() { return std::string(NBAPROPS_SOURCE_DIR) + "/tests/pg_cluster.sh"; }

std::string ServerStartTime(store::Store& s) {
  std::string out;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) -> Status {
                 ASSIGN_OR_RETURN(auto v, t.QueryText("SELECT pg_postmaster_start_time()::text"));
                 out = v.value_or("");
                 return OkStatus();
               }).ok());
  return out;
}

// The outputs of every phase, row by row in key order. Columns that name a run or the moment a row
// was written differ between any two runs and are left out; doubles are compared exactly (as the
// shortest text that reads back to the same bits), whichever backend stored them.
struct OutputTable {
  const char* name;
  const char* columns;
};
constexpr OutputTable kOutputs[] = {
    {"analytics_player_game_summary", "*"},
    {"analytics_team_offense_game_summary", "*"},
    {"analytics_team_defense_game_summary", "*"},
    {"analytics_upcoming_team_game_context", "*"},
    {"analytics_upcoming_player_game_context", "*"},
    {"analytics_upcoming_player_lines", "*"},
    {"precompute_player_daily_cache", "*"},
    {"precompute_player_shot_zone_analysis", "*"},
    {"precompute_team_defense_zone_analysis", "*"},
    {"precompute_player_composite_factors", "*"},
    {"precompute_ml_feature_store", "*"},
    {"player_prop_predictions",
     "system_id, model_version, feature_version, game_date, game_id, player_id, player_name, team, opponent, home, "
     "predicted_points, prob_over, line, over_price, under_price, sportsbook, line_source, was_line_fallback, "
     "line_captured_at, recommendation, edge, confidence, reason, superseded_by IS NULL, quality_tier"},
    {"prediction_accuracy",
     "system_id, game_date, game_id, player_id, team, sportsbook, line_source, line, recommendation, confidence, edge, "
     "predicted_points, actual_points, minutes, abs_error, signed_error, outcome, reason, price, units, closing_line, "
     "closing_captured_at, clv"},
    {"prediction_performance_daily", "*"},
};

std::string TableText(store::Store& s, const OutputTable& table, int64_t* rows) {
  std::vector<std::string> lines;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) {
                 return t.Query(std::string("SELECT ") + table.columns + " FROM " + table.name, {},
                                [&](const store::Row& r) {
                                  std::string line;
                                  for (int i = 0; i < r.size(); ++i) line += testing::CellText(r, i) + "|";
                                  lines.push_back(std::move(line));
                                  return OkStatus();
                                });
               }).ok())
      << table.name;
  // Sorted here, not by ORDER BY: the two databases collate text differently.
  std::sort(lines.begin(), lines.end());
  *rows = static_cast<int64_t>(lines.size());
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

// The first line that differs, from each side.
std::string FirstDifference(const std::string& a, const std::string& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const size_t start = a.rfind('\n', i == 0 ? 0 : i - 1);
  const size_t from = start == std::string::npos ? 0 : start + 1;
  auto line = [&](const std::string& s) { return s.substr(from, s.find('\n', from) - from); };
  return "first difference:\n  postgresql: " + line(a) + "\n  sqlite:     " + line(b);
}

// processor/partition of every successful run, sorted.
std::string SucceededRuns(store::Store& s) {
  std::vector<std::string> keys;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) {
                 return t.Query("SELECT processor, partition_key FROM processor_runs WHERE status = 'succeeded'", {},
                                [&](const store::Row& r) {
                                  keys.push_back(r.Text(0) + "/" + r.Text(1));
                                  return OkStatus();
                                });
               }).ok());
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const std::string& k : keys) out += k + "\n";
  return out;
}

TEST(PgWorkersTest, FourWorkerProcessesMatchOneSqliteProcessThroughAKillAndAServerRestart) {
  TempDir dir;
  // The server runs as the postgres user when the tests run as root: it must reach its directory.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::others_exec, std::filesystem::perm_options::add);
  const std::string cluster = dir.File("pg");
  ASSERT_EQ(Sh(ClusterScript() + " start " + cluster + " 2>" + dir.File("pg_start.log")), 0);
  struct StopCluster {
    std::string dir;
    ~StopCluster() { Sh(ClusterScript() + " stop " + dir + " >/dev/null 2>&1"); }
  } stop_cluster{cluster};
  std::string url;
  if (!(std::ifstream(cluster + "/url") >> url)) {
    std::string why;
    std::getline(std::ifstream(cluster + "/skip"), why);
    GTEST_SKIP() << "PostgreSQL tests skipped: " << why;
  }

  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string sqlite = dir.File("single.db");
  ASSERT_EQ(Sh(Bin() + " init --db " + sqlite + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + sqlite + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " backfill -q --db " + sqlite + " > " + dir.File("single.log") + " 2>&1"), 0);

  const std::string pg = "\"" + url + "\"";  // double quotes: Spawn wraps commands in single ones
  ASSERT_EQ(Sh(Bin() + " init --db " + pg + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + pg + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " backfill --enqueue --db " + pg + " > /dev/null"), 0);
  auto store = testing::OpenTestStore(url);

  // Short leases so the killed worker's run is reaped within seconds. Worker 1 blocks inside the
  // first player_daily_cache run it claims (a test hook; it keeps heartbeating) until it is killed.
  const std::string lease = "NBAPROPS_LEASE_MS=2000 NBAPROPS_HEARTBEAT_MS=300";
  std::vector<pid_t> workers;
  struct KillWorkers {  // on any early return
    std::vector<pid_t>* pids;
    ~KillWorkers() {
      for (pid_t p : *pids) ::kill(p, SIGKILL);
    }
  } kill_workers{&workers};
  workers.push_back(Spawn(lease + " NBAPROPS_TEST_BLOCK=player_daily_cache:600000",
                          "worker --workers 1 --until-idle --db " + pg, dir.File("w1.log")));
  // Four threads each, more than commit side by side (CommitGroupOptions::max_in_flight), so their
  // partition-local commits also share transactions (group commit).
  for (int i = 2; i <= 4; ++i) {
    workers.push_back(
        Spawn(lease, "worker --workers 4 --until-idle --db " + pg, dir.File("w" + std::to_string(i) + ".log")));
  }
  for (pid_t w : workers) ASSERT_GT(w, 0);

  int64_t blocked = 0;
  for (int i = 0; i < 1200 && blocked == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    blocked = Count(*store,
                    "SELECT COALESCE(MAX(run_id), 0) FROM processor_runs WHERE status = 'running' AND "
                    "processor = 'player_daily_cache' AND worker_id LIKE '%:" +
                        std::to_string(workers[0]) + "/%'");
  }
  ASSERT_GT(blocked, 0) << "worker 1 never reached a player_daily_cache run";
  ASSERT_EQ(::kill(workers[0], SIGKILL), 0);
  const int64_t total = Count(*store, "SELECT COUNT(*) FROM processor_runs");

  // The server restarts while the other three are in the middle of the season.
  const int64_t before = Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const std::string started_before = ServerStartTime(*store);
  ASSERT_EQ(Sh(ClusterScript() + " restart " + cluster), 0);
  const int64_t at_restart = Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'");
  EXPECT_NE(ServerStartTime(*store), started_before);
  RecordProperty("runs_succeeded_at_restart", static_cast<int>(at_restart));
  std::printf("kill -9 after %lld successful runs; pg_ctl restart after %lld\n", static_cast<long long>(before),
              static_cast<long long>(at_restart));

  for (size_t i = 1; i < workers.size(); ++i) {
    for (int t = 0; t < 3000 && Alive(workers[i]); ++t) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_FALSE(Alive(workers[i])) << "worker " << i + 1 << " did not finish; see " << dir.File("w*.log");
  }

  // The restart happened mid-run, not after the work was done.
  EXPECT_LT(at_restart, Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"));
  EXPECT_GE(Count(*store, "SELECT COUNT(*) FROM processor_runs"), total);
  // The killed worker's run failed by its lease and its retry succeeded elsewhere.
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE run_id = " + std::to_string(blocked) +
                              " AND status = 'failed' AND error_category = 'lease_expired'"),
            1);
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE caused_by_run_id = " + std::to_string(blocked) +
                              " AND status = 'succeeded'"),
            1);
  // Nothing lost, nothing done twice.
  EXPECT_EQ(Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running', 'dead')"), 0);
  EXPECT_EQ(Count(*store,
                  "SELECT COUNT(*) FROM (SELECT processor, partition_key FROM processor_runs WHERE status = "
                  "'succeeded' GROUP BY processor, partition_key HAVING COUNT(*) > 1) twice"),
            0);
  // The ledger's history agrees: every success logged once, every claim once.
  EXPECT_EQ(Count(*store,
                  "SELECT COUNT(*) FROM processor_runs r WHERE (SELECT COUNT(*) FROM run_transitions t WHERE "
                  "t.run_id = r.run_id AND t.to_status = r.status) <> 1 AND r.status IN ('succeeded', 'failed')"),
            0);
  EXPECT_EQ(Count(*store,
                  "SELECT COUNT(*) FROM processor_runs r WHERE r.started_at IS NOT NULL AND (SELECT COUNT(*) "
                  "FROM run_transitions t WHERE t.run_id = r.run_id AND t.to_status = 'running') <> 1"),
            0);
  // The four-thread workers did commit runs together (their summary line says how many).
  constexpr std::string_view kBeforeShared = "lease expiries reaped; ";
  int64_t shared = 0;
  for (int i = 2; i <= 4; ++i) {
    std::ifstream log(dir.File("w" + std::to_string(i) + ".log"));
    for (std::string line; std::getline(log, line);) {
      const auto at = line.find(kBeforeShared);
      if (at != std::string::npos) shared += std::stoll(line.substr(at + kBeforeShared.size()));
    }
  }
  EXPECT_GT(shared, 0) << "no commit was shared; see " << dir.File("w*.log");
  RecordProperty("runs_committed_together", static_cast<int>(shared));
  std::printf("%lld runs committed in shared transactions\n", static_cast<long long>(shared));
  auto single = testing::OpenTestStore(sqlite);
  EXPECT_EQ(SucceededRuns(*store), SucceededRuns(*single));
  for (const OutputTable& table : kOutputs) {
    int64_t pg_rows = 0, sqlite_rows = 0;
    const std::string pg_text = TableText(*store, table, &pg_rows);
    const std::string sqlite_text = TableText(*single, table, &sqlite_rows);
    EXPECT_EQ(pg_rows, sqlite_rows) << table.name;
    EXPECT_TRUE(pg_text == sqlite_text) << table.name << " differs between the PostgreSQL workers and SQLite; "
                                        << FirstDifference(pg_text, sqlite_text);
  }
  EXPECT_GT(Count(*store, "SELECT COUNT(*) FROM precompute_ml_feature_store"), 20000);
  EXPECT_GT(Count(*store, "SELECT COUNT(*) FROM prediction_accuracy"), 1000);
}

}  // namespace
}  // namespace nbaprops
