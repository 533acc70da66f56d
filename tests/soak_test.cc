// The soak: `serve` replays simulated days of the bundled season (the scheduler, the reconciler
// and one worker thread) while three `worker` processes share its queue, and a driver kills a
// worker with SIGKILL every one to three seconds and starts a new one; on PostgreSQL the server is
// also restarted (pg_ctl restart) while the replay runs. At the end:
//   - every expected output of every replayed date exists (`heal --dry-run` finds nothing unmet);
//   - each (processor, partition) has at most one success in its latest generation (the runs since
//     its last run that was not a retry), and the same partitions have one as in a clean run;
//   - no run is running, queued or dead; no dead letter; no prediction in force or grade twice;
//   - every export validates against its JSON Schema;
//   - every domain table equals a clean single-process replay's (tests/table_snapshot.h).
// It prints the kills survived (and how many interrupted a run), the runs retried, the lease
// expiries, and the time to recover after each kill that interrupted runs (until every run it
// held has succeeded again), max and p95.
//
// `make test`: NBAPROPS_SOAK_DAYS (6) days, NBAPROPS_SOAK_KILLS (8) kills at least, one server
// restart on PostgreSQL (NBAPROPS_SOAK_PG_RESTARTS). `make test-slow`: 30 days, 50 kills on SQLite,
// 20 kills and 2 restarts on PostgreSQL.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/time.h"
#include "tests/json_schema.h"
#include "tests/process_util.h"
#include "tests/table_snapshot.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

namespace fs = std::filesystem;
using testing::Alive;
using testing::Bin;
using testing::Sh;
using testing::Spawn;
using testing::TempDir;
using Steady = std::chrono::steady_clock;

constexpr char kFrom[] = "2024-01-24";  // the first replayed date; the base is backfilled to the day before
constexpr char kLease[] = "NBAPROPS_LEASE_MS=1500 NBAPROPS_HEARTBEAT_MS=300";

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

std::string ClusterScript() { return std::string(NBAPROPS_SOURCE_DIR) + "/tests/pg_cluster.sh"; }

// A count that tolerates the database being away (a server restart): nullopt then.
std::optional<int64_t> TryCount(store::Store& s, const std::string& sql) {
  std::optional<int64_t> out;
  Status st = s.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(auto v, t.QueryInt(sql));
    out = v.value_or(0);
    return OkStatus();
  });
  return st.ok() ? out : std::nullopt;
}

// The runs a worker process holds: run_id -> "processor partition".
std::map<int64_t, std::string> HeldBy(store::Store& s, pid_t pid) {
  std::map<int64_t, std::string> held;
  const std::string p = std::to_string(pid);
  (void)s.WithRead([&](store::Transaction& t) {
    return t.Query("SELECT run_id, processor, partition_key FROM processor_runs WHERE status = 'running' AND "
                   "(worker_id LIKE '%:" + p + "/%' OR worker_id LIKE '%:" + p + "')",
                   {}, [&](const store::Row& r) {
                     held[r.Int(0)] = r.Text(1) + "\t" + r.Text(2);
                     return OkStatus();
                   });
  });
  return held;
}

// (processor, partition) of every partition with exactly one success in its latest generation,
// sorted; *twice counts those with more than one.
std::vector<std::string> LatestGenerationWinners(store::Store& s, int64_t* twice) {
  std::vector<std::string> keys;
  *twice = 0;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) {
                 return t.Query(
                     "SELECT r.processor, r.partition_key, SUM(CASE WHEN r.status = 'succeeded' THEN 1 ELSE 0 END) "
                     "FROM processor_runs r WHERE r.run_id >= (SELECT MAX(g.run_id) FROM processor_runs g WHERE "
                     "g.processor = r.processor AND g.partition_key = r.partition_key AND g.trigger <> 'retry') "
                     "GROUP BY r.processor, r.partition_key",
                     {}, [&](const store::Row& r) {
                       if (r.Int(2) == 1) keys.push_back(r.Text(0) + " " + r.Text(1));
                       if (r.Int(2) > 1) ++*twice;
                       return OkStatus();
                     });
               }).ok());
  std::sort(keys.begin(), keys.end());
  return keys;
}

// The expectations `heal --dry-run` finds unmet on `date`, as "processor: reason" lines.
std::vector<std::string> Unmet(const std::string& db, const std::string& date, const std::string& out) {
  if (Sh(Bin() + " --json heal --dry-run --date " + date + " --db " + db + " > " + out + " 2>&1") != 0) {
    return {"heal --dry-run failed; see " + out};
  }
  std::ifstream in(out);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("unmet")) return {"heal --dry-run printed no JSON; see " + out};
  std::vector<std::string> unmet;
  for (const auto& u : j["unmet"]) unmet.push_back(u.dump());
  return unmet;
}

class SoakTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SoakTest, WorkersKilledAtRandomLoseAndDuplicateNothing) {
  const bool pg = GetParam() == "postgresql";
  const int days = EnvInt("NBAPROPS_SOAK_DAYS", 6);
  const int min_kills = EnvInt("NBAPROPS_SOAK_KILLS", 8);
  const int restarts = pg ? EnvInt("NBAPROPS_SOAK_PG_RESTARTS", 1) : 0;
  TempDir dir;
  fs::permissions(dir.path(), fs::perms::others_exec, fs::perm_options::add);  // the PG server's user
  std::string url = dir.File("soak.db"), cluster;
  struct StopCluster {
    std::string dir;
    ~StopCluster() {
      if (!dir.empty()) Sh(ClusterScript() + " stop " + dir + " >/dev/null 2>&1");
    }
  } stop_cluster;
  if (pg) {
    // Its own cluster: the soak restarts it, and the other tests share the fixture's.
    cluster = dir.File("pg");
    ASSERT_EQ(Sh(ClusterScript() + " start " + cluster + " 2>" + dir.File("pg_start.log")), 0);
    stop_cluster.dir = cluster;
    if (!(std::ifstream(cluster + "/url") >> url)) {
      std::string why;
      std::getline(std::ifstream(cluster + "/skip"), why);
      GTEST_SKIP() << "PostgreSQL tests skipped: " << why;
    }
  }
  const std::string db = "\"" + url + "\"";  // double quotes: Spawn wraps commands in single ones

  // The base: the season imported, every date before kFrom run.
  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string base = dir.File("base.db"), clean = dir.File("clean.db");
  const std::string before = FormatIsoDate(*ParseIsoDate(kFrom) - 1);
  ASSERT_EQ(Sh(Bin() + " init --db " + base + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + base + " > /dev/null"), 0);
  ASSERT_EQ(Sh("NBAPROPS_EXPORT_DIR=" + dir.File("base-exports") + " " + Bin() + " backfill -q --from 2023-10-24 --to " +
               before + " --db " + base + " > /dev/null"),
            0);
  fs::copy_file(base, clean);
  if (pg) {
    ASSERT_EQ(Sh(Bin() + " migrate --from " + base + " --to " + db + " > " + dir.File("migrate.log") + " 2>&1"), 0)
        << "see " << dir.File("migrate.log");
  } else {
    fs::copy_file(base, url);
  }
  const std::string replay = " serve --replay-from " + std::string(kFrom) + " --replay-days " + std::to_string(days);

  // The soak lasts long enough for min_kills kills at one per two seconds on average. The clean
  // run is the same replay at the same speed in one process, nothing killed (what the reconciler
  // finds to do depends on how simulated time passes between its rounds, so the speed is kept).
  const double soak_s = std::max(20.0, min_kills * 2.0 + 10.0);
  const std::string speed = " --speed " + std::to_string(days * 86400.0 / soak_s);
  const auto clean_start = Steady::now();
  ASSERT_EQ(Sh(std::string(kLease) + " NBAPROPS_EXPORT_DIR=" + dir.File("clean-exports") + " " + Bin() + replay +
               speed + " --workers 1 --db " + clean + " > " + dir.File("clean.log") + " 2>&1"),
            0)
      << "see " << dir.File("clean.log");
  const double clean_s = std::chrono::duration<double>(Steady::now() - clean_start).count();

  const std::string env = std::string(kLease) + " NBAPROPS_EXPORT_DIR=" + dir.File("soak-exports");
  const pid_t serve = Spawn(env, replay + speed + " --workers 1 --db " + db,
                            dir.File("serve.log"));
  ASSERT_GT(serve, 0);
  std::vector<pid_t> workers;
  int spawned = 0;
  // The workers take their time over the first attempt of each player_daily_cache run (a test
  // hook; it heartbeats meanwhile), so that kills find runs in hand; serve's own thread does not.
  auto spawn_worker = [&] {
    return Spawn(env + " NBAPROPS_TEST_BLOCK=player_daily_cache:1200", "worker --workers 1 --db " + db,
                 dir.File("worker" + std::to_string(++spawned) + ".log"));
  };
  struct KillAll {
    std::vector<pid_t>* pids;
    pid_t serve;
    ~KillAll() {
      for (pid_t p : *pids) ::kill(p, SIGKILL);
      ::kill(serve, SIGKILL);
    }
  } kill_all{&workers, serve};
  for (int i = 0; i < 3; ++i) workers.push_back(spawn_worker());
  auto watch = testing::OpenTestStore(url);

  std::mt19937 rng(20240124);
  std::uniform_int_distribution<int> pause_ms(1000, 3000);
  struct Pending {
    Steady::time_point at;
    std::map<int64_t, std::string> held;
  };
  std::vector<Pending> pending;
  std::vector<double> recovery_s;
  int kills = 0, interrupting = 0, restarted = 0;
  const auto start = Steady::now();
  auto next_kill = start + std::chrono::milliseconds(pause_ms(rng));
  const auto give_up = start + std::chrono::seconds(static_cast<int64_t>(soak_s * 4 + 180));
  // A kill has recovered when every run the victim held has succeeded: the run itself (it
  // committed between the look at what the victim held and the kill) or a later one.
  auto check_recovered = [&](Steady::time_point now) {
    for (auto it = pending.begin(); it != pending.end();) {
      bool done = true;
      for (const auto& [run_id, key] : it->held) {
        const size_t tab = key.find('\t');
        auto n = TryCount(*watch, "SELECT COUNT(*) FROM processor_runs WHERE processor = '" + key.substr(0, tab) +
                                      "' AND partition_key = '" + key.substr(tab + 1) +
                                      "' AND status = 'succeeded' AND run_id >= " + std::to_string(run_id));
        done = done && n && *n > 0;
      }
      if (!done) {
        ++it;
        continue;
      }
      recovery_s.push_back(std::chrono::duration<double>(now - it->at).count());
      it = pending.erase(it);
    }
  };
  while (Alive(serve) && Steady::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto now = Steady::now();
    check_recovered(now);
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (restarted < restarts && elapsed > soak_s * (restarted + 1) / (restarts + 1)) {
      ASSERT_EQ(Sh(ClusterScript() + " restart " + cluster), 0);
      ++restarted;
    }
    if (now < next_kill) continue;
    next_kill = now + std::chrono::milliseconds(pause_ms(rng));
    // A random worker, one holding a run when there is one (a kill of an idle worker tests less).
    std::vector<size_t> busy;
    std::map<size_t, std::map<int64_t, std::string>> held;
    for (size_t i = 0; i < workers.size(); ++i) {
      held[i] = HeldBy(*watch, workers[i]);
      if (!held[i].empty()) busy.push_back(i);
    }
    const size_t victim = busy.empty() ? rng() % workers.size() : busy[rng() % busy.size()];
    held[victim] = HeldBy(*watch, workers[victim]);  // again: it may have finished since
    ASSERT_EQ(::kill(workers[victim], SIGKILL), 0);
    for (int t = 0; t < 100 && Alive(workers[victim]); ++t) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ++kills;
    if (!held[victim].empty()) {
      ++interrupting;
      pending.push_back({Steady::now(), held[victim]});
    }
    workers[victim] = spawn_worker();
  }
  ASSERT_FALSE(Alive(serve)) << "the replay did not finish; see " << dir.File("serve.log");
  // A kill just before the replay ended: the surviving workers finish its runs.
  for (int t = 0; t < 600 && !pending.empty(); ++t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    check_recovered(Steady::now());
  }
  for (pid_t w : workers) ::kill(w, SIGTERM);
  for (pid_t w : workers) {
    for (int t = 0; t < 300 && Alive(w); ++t) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(kills, min_kills) << "the replay ended before enough kills; see " << dir.File("serve.log");
  EXPECT_EQ(restarted, restarts);
  EXPECT_TRUE(pending.empty()) << pending.size() << " kills whose runs never succeeded again";

  // Nothing left over, nothing twice.
  auto count = [&](const std::string& sql) { return testing::Count(*watch, sql); };
  EXPECT_EQ(count("SELECT COUNT(*) FROM processor_runs WHERE status IN ('running', 'queued', 'dead')"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM dead_letters"), 0);
  for (const std::string& v : testing::HistoryViolations(*watch)) ADD_FAILURE() << v;
  auto clean_store = testing::OpenTestStore(clean);
  int64_t twice = 0, clean_twice = 0;
  const auto winners = LatestGenerationWinners(*watch, &twice);
  EXPECT_EQ(twice, 0) << "partitions with two successes in their latest generation";
  EXPECT_EQ(winners, LatestGenerationWinners(*clean_store, &clean_twice));
  // Every expected output of every replayed date.
  for (int d = 0; d < days; ++d) {
    const std::string date = FormatIsoDate(*ParseIsoDate(kFrom) + d);
    for (const std::string& u : Unmet(db, date, dir.File("heal.json"))) ADD_FAILURE() << date << ": unmet " << u;
  }
  for (const std::string& e : testing::ExportSchemaErrors(dir.File("soak-exports"))) ADD_FAILURE() << e;
  const std::string diff = testing::SnapshotDiff(testing::Snapshot(*clean_store), testing::Snapshot(*watch));
  EXPECT_TRUE(diff.empty()) << "the soak's tables differ from the clean run's: " << diff;

  std::sort(recovery_s.begin(), recovery_s.end());
  const double max_s = recovery_s.empty() ? 0 : recovery_s.back();
  const double p95_s = recovery_s.empty() ? 0 : recovery_s[(recovery_s.size() * 95 + 99) / 100 - 1];
  const int64_t retried = count("SELECT COUNT(*) FROM processor_runs WHERE trigger = 'retry'");
  const int64_t expired = count("SELECT COUNT(*) FROM processor_runs WHERE error_category = 'lease_expired'");
  std::printf("%s soak: %d simulated days in %.0f s (clean single process: %.0f s); %d kills survived (%d interrupted "
              "a run), %d server restarts; %lld runs retried, %lld lease expiries; recovery after a kill that "
              "interrupted runs: max %.1f s, p95 %.1f s (n=%zu; lease 1.5 s)\n",
              GetParam().c_str(), days, std::chrono::duration<double>(Steady::now() - start).count(), clean_s, kills,
              interrupting, restarted, static_cast<long long>(retried), static_cast<long long>(expired), max_s, p95_s,
              recovery_s.size());
  EXPECT_GT(interrupting, 0) << "no kill interrupted a run";
}

INSTANTIATE_TEST_SUITE_P(Backends, SoakTest, testing::BackendValues(), testing::BackendName);

}  // namespace
}  // namespace nbaprops
