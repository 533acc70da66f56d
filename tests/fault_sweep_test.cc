// The storage fault sweep: one date's whole chain (import of the day's box scores -> phases 2-6)
// is run once for every statement it makes, with that statement failing (store/fault_store.h),
// then once more after the fault is gone, the way an operator or `serve` would retry. For every
// fault the invariants are:
//   1. nothing crashes, and every error the chain returns is transient (kUnavailable, or a run
//      skipped because its upstream failed) -- never "internal", never a dead letter;
//   2. no run holds a lease longer than the lease length, and once leases have lapsed the reaper
//      leaves no run `running`;
//   3. the retry completes the date: no run running or queued, none dead;
//   4. every domain table equals a clean run's row for row (tests/table_snapshot.h: ids and
//      timestamps aside, the predictions in force), and the predictions' history holds;
//   5. SQLite: PRAGMA integrity_check is "ok".
// Three plans: the Nth statement fails (IOERR, FULL, BUSY in turn; on PostgreSQL also a really
// dropped connection), the Nth commit fails, and every statement from the Nth on fails (a disk
// that stays full until an operator frees it).
//
// `make test` sweeps a stride of the statements (NBAPROPS_FAULT_STRIDE; 37 on SQLite, 97 on
// PostgreSQL); `make test-slow` sweeps every one (stride 1). The counts are printed.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "base/clock.h"
#include "base/time.h"
#include "engine/runner.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "store/fault_store.h"
#include "tests/table_snapshot.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

namespace fs = std::filesystem;
using store::Fault;
using store::FaultPlan;
using testing::TempDir;

// Sunday 2024-02-11: 2 games, lines and injury reports; its box scores arrive in the chain.
constexpr char kDate[] = "2024-02-11";
constexpr int64_t kHour = 3'600'000;

// Every how many statements a fault is injected: NBAPROPS_FAULT_STRIDE, or a default that keeps
// `make test` short (a PostgreSQL trial costs twice a SQLite one).
int64_t Stride(const std::string& backend) {
  const char* s = std::getenv("NBAPROPS_FAULT_STRIDE");
  return s && *s ? std::max<int64_t>(1, std::atoll(s)) : backend == "sqlite" ? 37 : 97;
}

// The first statement to fail (NBAPROPS_FAULT_FIRST, default 1): to look at one fault again.
int64_t First() {
  const char* s = std::getenv("NBAPROPS_FAULT_FIRST");
  return s && *s ? std::max<int64_t>(1, std::atoll(s)) : 1;
}

// Splits the bundled box scores into the rows of kDate and the rest.
void SplitBoxScores(const std::string& src, const std::string& rest, const std::string& day) {
  fs::create_directories(fs::path(day).parent_path());
  std::ifstream in(src);
  std::ofstream a(rest), b(day);
  std::string line;
  std::getline(in, line);
  a << line << "\n";
  b << line << "\n";
  const std::string needle = std::string(",") + kDate + ",";
  while (std::getline(in, line)) (line.find(needle) != std::string::npos ? b : a) << line << "\n";
}

Config SweepConfig(const std::string& export_dir) {
  Config c;
  c.export_dir = export_dir;
  c.lease_ms = 60'000;
  // Heartbeats would add statements at times of their own (real time); none happen in a sweep.
  c.heartbeat_ms = 10 * kHour;
  return c;
}

// The database under test: a copy of the template per trial (a file copy on SQLite, CREATE
// DATABASE ... TEMPLATE on PostgreSQL).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string TemplateUrl() = 0;
  virtual void TemplateDone() {}
  virtual std::string Fresh() = 0;  // a new copy of the template
  virtual void Drop(const std::string& url) = 0;
};

class SqliteBackend final : public Backend {
 public:
  explicit SqliteBackend(const TempDir& dir) : dir_(dir) {}
  std::string TemplateUrl() override { return dir_.File("template.db"); }
  std::string Fresh() override {
    std::string path = dir_.File("trial" + std::to_string(n_++) + ".db");
    fs::copy_file(TemplateUrl(), path);
    return path;
  }
  void Drop(const std::string& path) override {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path + suffix);
  }

 private:
  const TempDir& dir_;
  int n_ = 0;
};

class PostgresBackend final : public Backend {
 public:
  explicit PostgresBackend(std::string cluster) : cluster_(std::move(cluster)) {
    prefix_ = "fs" + std::to_string(::getpid());
    Admin("DROP DATABASE IF EXISTS " + prefix_ + "_template");
    Admin("CREATE DATABASE " + prefix_ + "_template");
  }
  ~PostgresBackend() override { Admin("DROP DATABASE IF EXISTS " + prefix_ + "_template"); }
  std::string TemplateUrl() override { return Url(prefix_ + "_template"); }
  std::string Fresh() override {
    std::string name = prefix_ + "_" + std::to_string(n_++);
    Admin("CREATE DATABASE " + name + " TEMPLATE " + prefix_ + "_template");
    names_[Url(name)] = name;
    return Url(name);
  }
  void Drop(const std::string& url) override {
    Admin("DROP DATABASE IF EXISTS " + names_.at(url) + " WITH (FORCE)");
    names_.erase(url);
  }

 private:
  std::string Url(const std::string& db) const {
    std::string u = cluster_;
    size_t slash = u.find("/postgres?");
    return u.substr(0, slash) + "/" + db + u.substr(slash + 9);
  }
  // CREATE/DROP DATABASE cannot run in a transaction, which is all a Store offers: psql does it.
  void Admin(const std::string& sql) {
    ASSERT_EQ(std::system(("psql -q -X -v ON_ERROR_STOP=1 '" + cluster_ + "' -c '" + sql + "' > /dev/null").c_str()), 0)
        << sql;
  }
  std::string cluster_, prefix_;
  std::map<std::string, std::string> names_;  // url -> database
  int n_ = 0;
};

struct SweepCounts {
  int64_t trials = 0, faults_injected = 0, chain_failed = 0, violations = 0;
};

class FaultSweepTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      backend_ = std::make_unique<SqliteBackend>(dir_);
    } else {
      std::string why;
      std::string cluster = testing::PgClusterUrl(&why);
      if (cluster.empty()) GTEST_SKIP() << why;
      backend_ = std::make_unique<PostgresBackend>(cluster);
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
    SplitBoxScores(data + "/box_scores.csv", dir_.File("box_scores.csv"), day_file_);
    // The template: the season without kDate's box scores, every earlier date run.
    auto store = testing::OpenTestStore(backend_->TemplateUrl());
    FakeClock clock(EasternLocalToUtc(*ParseIsoDate("2023-10-01"), 0, 0) * 1000);
    Config config = SweepConfig(dir_.File("exports-template"));
    auto runner = pipeline::MakeRunner(*store, clock, config).value();
    pipeline::Ingestor ingestor(*runner);
    for (const char* f : {"players.csv", "schedule.csv", "game_lines.csv", "injuries.csv", "player_points_props.csv"}) {
      auto r = ingestor.ImportFile(data + "/" + f, std::nullopt);
      ASSERT_TRUE(r.status.ok()) << f << ": " << r.status.ToString();
    }
    auto r = ingestor.ImportFile(dir_.File("box_scores.csv"), std::nullopt);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    for (int32_t d = *ParseIsoDate("2023-10-24"); d < *ParseIsoDate(kDate); ++d) {
      clock.SetMillis(EasternLocalToUtc(d + 1, 5, 0) * 1000);
      ASSERT_TRUE(pipeline::RunDate(*runner, FormatIsoDate(d), 0, "backfill").ok()) << FormatIsoDate(d);
    }
    runner.reset();
    store.reset();
    backend_->TemplateDone();
    template_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  // The chain at 05:00 ET the morning after kDate: the day's box scores arrive, then phases 3-6.
  Status Chain(engine::Runner& runner) {
    pipeline::Ingestor ingestor(runner);
    auto r = ingestor.ImportFile(day_file_, std::nullopt);
    if (!r.status.ok()) return r.status.WithContext("importing " + day_file_);
    pipeline::DateRunResult day = pipeline::RunDate(runner, kDate, 0, "backfill");
    for (const auto& [processor, o] : day.outcomes) {
      if (!o.status.ok()) return o.status.WithContext(processor);
    }
    return OkStatus();
  }
  int64_t ChainStart() const { return EasternLocalToUtc(*ParseIsoDate(kDate) + 1, 5, 0) * 1000; }

  // Runs the chain on a fresh copy under `plan` (nullopt: clean, and counts statements), then
  // retries it and checks every invariant. Returns false on a violation (already reported).
  bool Trial(const std::optional<FaultPlan>& plan, SweepCounts& counts, int64_t* statements = nullptr) {
    const std::string url = backend_->Fresh();
    bool ok = true;
    {
      auto real = testing::OpenTestStore(url);
      store::FaultStore faults(*real);
      FakeClock clock(ChainStart());
      Config config = SweepConfig(dir_.File("exports"));
      auto runner = pipeline::MakeRunner(faults, clock, config).value();
      std::string label = plan ? std::string(FaultName(plan->fault)) + " at " +
                                     (plan->when == FaultPlan::When::kNthCommit ? "commit " : "statement ") +
                                     std::to_string(plan->n) +
                                     (plan->when == FaultPlan::When::kFromNthStatement ? " and after" : "")
                               : "clean";
      auto violation = [&](const std::string& what) {
        ADD_FAILURE() << GetParam() << ", " << label << ": " << what;
        ++counts.violations;
        ok = false;
      };
      faults.Arm(plan.value_or(FaultPlan{}));
      Status first = Chain(*runner);
      if (statements) *statements = faults.statements();
      const bool injected = faults.injected() > 0;
      faults.Disarm();
      ++counts.trials;
      if (!plan) {
        if (!first.ok()) violation("the clean chain failed: " + first.ToString());
      } else {
        counts.faults_injected += injected;
        counts.chain_failed += !first.ok();
        if (!first.ok() && first.code() != StatusCode::kUnavailable && first.code() != StatusCode::kFailedPrecondition &&
            first.code() != StatusCode::kAborted) {
          violation("the chain failed with a non-transient error: " + first.ToString());
        }
      }
      int64_t now = clock.NowMillis();
      auto n = [&](const std::string& sql) { return testing::Count(*real, sql); };
      if (n("SELECT COUNT(*) FROM processor_runs WHERE status = 'running' AND lease_expires_at > " +
            std::to_string(now + config.lease_ms)) != 0) {
        violation("a run holds a lease longer than lease_ms");
      }
      // The retry: leases lapse and backoffs pass, the reaper and the queue run, and the chain
      // is run again as `nbaprops import` + `nbaprops run --date` would.
      clock.AdvanceMillis(kHour);
      if (auto reaped = runner->Reap(); !reaped.ok()) violation("reap: " + reaped.status().ToString());
      if (n("SELECT COUNT(*) FROM processor_runs WHERE status = 'running'") != 0)
        violation("a run is still running after its lease lapsed");
      if (auto drained = runner->DrainQueue(); !drained.ok()) violation("drain: " + drained.status().ToString());
      if (Status again = Chain(*runner); !again.ok()) violation("the retry failed: " + again.ToString());
      clock.AdvanceMillis(kHour);
      if (auto drained = runner->DrainQueue(); !drained.ok()) violation("drain: " + drained.status().ToString());
      // The first of a kind of row, described, or "".
      auto describe = [&](const std::string& sql) {
        return testing::ReadValue<std::string>(*real, [&](store::Transaction& t) -> StatusOr<std::string> {
          ASSIGN_OR_RETURN(auto v, t.QueryText(sql));
          return v.value_or("");
        });
      };
      if (std::string left = describe("SELECT processor || ' ' || partition_key || ' ' || status || ' ' || "
                                   "COALESCE(error_category, '') || ': ' || COALESCE(error_message, '') FROM "
                                   "processor_runs WHERE status IN ('running', 'queued', 'dead') LIMIT 1");
          !left.empty()) {
        violation("a run is left running, queued or dead: " + left);
      }
      if (std::string dl = describe("SELECT processor || ' ' || partition_key || ' ' || category || ': ' || error FROM "
                                 "dead_letters LIMIT 1");
          !dl.empty()) {
        violation("a dead letter: " + dl);
      }
      if (int64_t bad = n("SELECT COUNT(*) FROM processor_runs WHERE status = 'failed' AND error_category NOT IN "
                          "('source_unavailable', 'lease_expired', 'upstream_incomplete')")) {
        violation(std::to_string(bad) + " runs failed with a non-transient category");
      }
      for (const std::string& v : testing::HistoryViolations(*real)) violation(v);
      auto snap = testing::Snapshot(*real);
      if (!plan) {
        clean_ = std::move(snap);
      } else if (std::string d = testing::SnapshotDiff(clean_, snap); !d.empty()) {
        violation("tables differ from a clean run: " + d);
      }
      if (GetParam() == "sqlite") {
        auto check = testing::ReadValue<std::string>(*real, [](store::Transaction& t) -> StatusOr<std::string> {
          ASSIGN_OR_RETURN(auto v, t.QueryText("PRAGMA integrity_check"));
          return v.value_or("");
        });
        if (check != "ok") violation("integrity_check: " + check);
      }
    }
    backend_->Drop(url);
    return ok;
  }

  TempDir dir_;
  std::string day_file_ = dir_.File("day/box_scores.csv");
  std::unique_ptr<Backend> backend_;
  testing::TableSnapshot clean_;
  double template_s_ = 0;
};

TEST_P(FaultSweepTest, EveryStatementOfADaysChainFailsOnceAndTheRetryMatchesACleanRun) {
  SweepCounts counts;
  int64_t statements = 0, commits = 0;
  const auto started = std::chrono::steady_clock::now();
  {
    // The clean run, counted twice: the sweep relies on the count being the same every time.
    int64_t again = 0;
    ASSERT_TRUE(Trial(std::nullopt, counts, &statements));
    ASSERT_TRUE(Trial(std::nullopt, counts, &again));
    ASSERT_EQ(statements, again) << "the chain's statement count is not deterministic";
  }
  ASSERT_GT(statements, 100);
  std::vector<Fault> kinds = {Fault::kIoError, Fault::kDiskFull, Fault::kBusy};
  if (GetParam() == "postgresql") kinds.insert(kinds.begin(), Fault::kDropConnection);
  const int64_t stride = Stride(GetParam());
  // Statement faults, the kinds taking turns; then commits; then a disk that stays full.
  int64_t swept = 0;
  for (int64_t i = First(); i <= statements && counts.violations < 5; i += stride, ++swept) {
    Trial(FaultPlan{FaultPlan::When::kNthStatement, i, kinds[swept % kinds.size()]}, counts);
  }
  // How many commits the chain makes: the clean run's count, from a dry trial with no fault.
  {
    auto url = backend_->Fresh();
    auto real = testing::OpenTestStore(url);
    store::FaultStore faults(*real);
    FakeClock clock(ChainStart());
    auto runner = pipeline::MakeRunner(faults, clock, SweepConfig(dir_.File("exports"))).value();
    faults.Arm(FaultPlan{});
    ASSERT_TRUE(Chain(*runner).ok());
    commits = faults.commits();
    runner.reset();
    real.reset();
    backend_->Drop(url);
  }
  int64_t commit_trials = 0;
  for (int64_t c = 1; c <= commits && counts.violations < 5; c += std::max<int64_t>(1, stride / 4), ++commit_trials) {
    Trial(FaultPlan{FaultPlan::When::kNthCommit, c, kinds[c % kinds.size()]}, counts);
  }
  int64_t from_trials = 0;
  for (int64_t i = 1; i <= statements && counts.violations < 5; i += stride * 8, ++from_trials) {
    Trial(FaultPlan{FaultPlan::When::kFromNthStatement, i, Fault::kDiskFull}, counts);
  }
  std::printf("%s fault sweep: the chain makes %lld statements (%lld commits); stride %lld: %lld statement faults, "
              "%lld commit faults, %lld stay-failed faults; %lld trials, the chain failed in %lld, "
              "%lld invariant violations; template %.1f s, %.2f s per trial\n",
              GetParam().c_str(), static_cast<long long>(statements), static_cast<long long>(commits),
              static_cast<long long>(stride), static_cast<long long>(swept), static_cast<long long>(commit_trials),
              static_cast<long long>(from_trials), static_cast<long long>(counts.trials),
              static_cast<long long>(counts.chain_failed), static_cast<long long>(counts.violations), template_s_,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
                  static_cast<double>(std::max<int64_t>(1, counts.trials)));
  EXPECT_EQ(counts.violations, 0);
  EXPECT_GT(counts.chain_failed, swept / 2) << "most faults should make the first attempt fail";
}

INSTANTIATE_TEST_SUITE_P(Backends, FaultSweepTest, testing::BackendValues(), testing::BackendName);

}  // namespace
}  // namespace nbaprops
