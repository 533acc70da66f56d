// queue_stress: a worker process for the multi-process queue test and the queue benchmark.
//   queue_stress DB seed N      create the side table and enqueue N runs of processor "side"
//   queue_stress DB work T      run T worker threads until nothing is queued or running;
//                               prints "executed K"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "engine/runner.h"
#include "engine/worker_pool.h"
#include "store/migrations.h"
#include "tests/side_table_processor.h"

using namespace nbaprops;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: queue_stress DB seed N | queue_stress DB work THREADS\n");
    return 2;
  }
  auto store = store::OpenStore(argv[1]);
  if (!store.ok() || !store::Migrate(**store).ok()) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 3;
  }
  const std::string mode = argv[2];
  const int n = std::atoi(argv[3]);
  if (mode == "seed") {
    Status st = (*store)->WithWrite([&](store::Transaction& t) -> Status {
      RETURN_IF_ERROR(t.Exec(testing::SideTableProcessor::kTableSql).status());
      for (int i = 0; i < n; ++i) {
        engine::RunStart s{"side", 2, "part-" + std::to_string(i), "", "manual", std::nullopt, 1, 0, std::nullopt};
        RETURN_IF_ERROR(engine::Ledger::Enqueue(t, s, 0).status());
      }
      return OkStatus();
    });
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      return 1;
    }
    return 0;
  }
  engine::Runner runner(**store, SystemClock::Default());
  (void)runner.Register(std::make_unique<testing::SideTableProcessor>());
  engine::WorkerPoolOptions po;
  po.threads = n;
  po.idle_poll_ms = 20;
  engine::WorkerPool pool(runner, po);
  pool.Start();
  int quiet = 0;
  while (quiet < 3) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t live = 1;
    (void)(*store)->WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(auto v, t.QueryInt("SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued','running')"));
      live = v.value_or(1);
      return OkStatus();
    });
    quiet = live == 0 ? quiet + 1 : 0;
  }
  pool.Stop();
  std::printf("executed %lld\n", static_cast<long long>(pool.runs_executed()));
  return 0;
}
