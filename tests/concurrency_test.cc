// Many workers, one queue: every run executed exactly once, none lost. Counted through the
// side table that each execution writes in its own commit.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "engine/runner.h"
#include "engine/worker_pool.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using testing::Count;
using testing::TempDir;

constexpr int kRuns = 10'000;

void ExpectEachRunExactlyOnce(store::Store& s) {
  EXPECT_EQ(Count(s, "SELECT COUNT(*) FROM executions"), kRuns);
  EXPECT_EQ(Count(s, "SELECT COUNT(DISTINCT part) FROM executions"), kRuns);
  EXPECT_EQ(Count(s, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"), kRuns);
  EXPECT_EQ(Count(s, "SELECT COUNT(*) FROM processor_runs WHERE status != 'succeeded'"), 0);
}

int Stress(const std::string& db, const std::string& mode, int n, std::string* out = nullptr) {
  std::string cmd = std::string(NBAPROPS_QUEUE_STRESS) + " " + db + " " + mode + " " + std::to_string(n);
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[256];
  while (std::fgets(buf, sizeof buf, p)) {
    if (out) *out += buf;
  }
  return ::pclose(p);
}

TEST(ConcurrencyTest, EightThreadsClaimTenThousandRunsExactlyOnce) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  ASSERT_EQ(Stress(db, "seed", kRuns), 0);
  auto s = testing::OpenTestStore(db);
  engine::Runner runner(*s, SystemClock::Default());
  ASSERT_TRUE(runner.Register(std::make_unique<testing::SideTableProcessor>()).ok());
  engine::WorkerPoolOptions po;
  po.threads = 8;
  po.idle_poll_ms = 10;
  {
    engine::WorkerPool pool(runner, po);
    pool.Start();
    while (Count(*s, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued','running')") > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    pool.Stop();
    EXPECT_EQ(pool.runs_executed(), kRuns);
  }
  ExpectEachRunExactlyOnce(*s);
}

TEST(ConcurrencyTest, TwoProcessesClaimTenThousandRunsExactlyOnce) {
  TempDir dir;
  const std::string db = dir.File("c.db");
  ASSERT_EQ(Stress(db, "seed", kRuns), 0);
  std::string out1, out2;
  std::string cmd = std::string(NBAPROPS_QUEUE_STRESS) + " " + db + " work 4";
  FILE* a = ::popen(cmd.c_str(), "r");
  FILE* b = ::popen(cmd.c_str(), "r");
  char buf[256];
  while (std::fgets(buf, sizeof buf, a)) out1 += buf;
  while (std::fgets(buf, sizeof buf, b)) out2 += buf;
  EXPECT_EQ(::pclose(a), 0);
  EXPECT_EQ(::pclose(b), 0);
  long e1 = 0, e2 = 0;
  std::sscanf(out1.c_str(), "executed %ld", &e1);
  std::sscanf(out2.c_str(), "executed %ld", &e2);
  EXPECT_EQ(e1 + e2, kRuns);
  EXPECT_GT(e1, 0);  // both processes did work
  EXPECT_GT(e2, 0);
  auto s = testing::OpenTestStore(db);
  ExpectEachRunExactlyOnce(*s);
}

}  // namespace
}  // namespace nbaprops
