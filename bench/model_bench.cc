// Benchmarks of phases 4-5 on the bundled 2023-24 season: phase 4 for every date, training the
// points model, and one day's predictions by all systems. Run: make bench
//
// Setup (not timed): import the season and run phase 3 for every date into a temporary SQLite
// file; phase 4 once so training has rows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include <thread>

#include "base/clock.h"
#include "engine/ledger.h"
#include "engine/worker_pool.h"
#include "pipeline/ingest.h"
#include "pipeline/model.h"
#include "pipeline/pipeline.h"
#include "pipeline/predictions.h"
#include "store/migrations.h"

namespace nbaprops {
namespace {

struct Season {
  std::string path;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<engine::Runner> runner;
  std::vector<std::string> dates;
};

Season& Shared() {
  static Season* s = [] {
    auto* s = new Season();
    s->path = (std::filesystem::temp_directory_path() / ("nbaprops-model-bench-" + std::to_string(::getpid()) + ".db"))
                  .string();
    s->store = store::OpenStore(s->path).value();
    (void)store::Migrate(*s->store);
    s->runner = pipeline::MakeRunner(*s->store, SystemClock::Default(), Config{}).value();
    pipeline::Ingestor ing(*s->runner);
    for (const auto& r : ing.ImportPaths({std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24"}, std::nullopt)) {
      if (!r.status.ok()) std::fprintf(stderr, "import %s: %s\n", r.path.c_str(), r.status.ToString().c_str());
    }
    s->dates = pipeline::GameDates(*s->store).value();
    for (const std::string& d : s->dates) {
      for (int phase : {3, 4}) {
        if (!pipeline::RunDate(*s->runner, d, phase, "backfill").ok()) std::fprintf(stderr, "setup failed on %s\n", d.c_str());
      }
    }
    std::fprintf(stderr, "setup: %zu game dates through phase 4\n", s->dates.size());
    std::atexit([] {
      for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(Shared().path + suffix);
    });
    return s;
  }();
  return *s;
}

void BM_Phase4WholeSeason(benchmark::State& state) {
  Season& s = Shared();
  for (auto _ : state) {
    for (const std::string& d : s.dates) {
      auto r = pipeline::RunDate(*s.runner, d, 4, "backfill");
      if (!r.ok()) state.SkipWithError(("phase 4 failed on " + d).c_str());
    }
  }
  state.counters["dates"] = static_cast<double>(s.dates.size());
}

// The same work through the queue, as `backfill --enqueue` + `serve` does it: the phase-4 runs
// whose inputs are phase 3 are queued for every date, two worker threads claim them, triggers
// queue the rest of phase 4 and then phase 5 (moving_average predictions, no model file).
void BM_Phases4And5TwoWorkers(benchmark::State& state) {
  Season& s = Shared();
  for (auto _ : state) {
    const int64_t now = SystemClock::Default().NowSeconds();
    Status st = s.store->WithWrite([&](store::Transaction& t) -> Status {
      for (const std::string& d : s.dates) {
        for (engine::Processor* p : s.runner->InOrder(4)) {
          bool root = true;
          for (const std::string& in : p->inputs()) root = root && s.runner->Find(in)->phase() < 4;
          if (!root) continue;
          engine::RunStart start{p->name(), p->phase(), d, d, "backfill", std::nullopt, 1, 0, std::nullopt};
          RETURN_IF_ERROR(engine::Ledger::Enqueue(t, start, now).status());
        }
      }
      return OkStatus();
    });
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    engine::WorkerPoolOptions options;
    options.threads = 2;
    options.idle_poll_ms = 5;
    options.reaper = false;
    engine::WorkerPool pool(*s.runner, options);
    pool.Start();
    pool.Notify();
    while (!pool.Idle()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    pool.Stop();
    if (pool.runs_failed() > 0) state.SkipWithError("some runs failed");
    state.counters["runs"] = static_cast<double>(pool.runs_executed());
  }
}

pipeline::TrainingSet TrainingRows(const std::string& before) {
  pipeline::TrainingSet set;
  (void)Shared().store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(set, pipeline::LoadTrainingSet(t, "2023-08-01", before));
    return OkStatus();
  });
  return set;
}

void BM_TrainUntil20240124(benchmark::State& state) {
  pipeline::TrainingSet set = TrainingRows("2024-01-24");
  for (auto _ : state) {
    auto m = pipeline::Model::Train(set, pipeline::TrainOptions{}, "2024-01-24");
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
  }
  state.counters["rows"] = static_cast<double>(set.size());
}

// One day's predictions by all three systems, the model already loaded.
void BM_PredictOneDay(benchmark::State& state) {
  auto model = pipeline::Model::Train(TrainingRows("2024-02-01"), pipeline::TrainOptions{}, "2024-02-01").value();
  pipeline::DateInputs in;
  const bool with_load = state.range(0) == 1;
  auto load = [&] {
    return Shared().store->WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(in, pipeline::LoadDateInputs(t, "2024-02-01"));
      return OkStatus();
    });
  };
  (void)load();
  pipeline::PredictionConfig config = pipeline::PredictionConfigFrom(Config{});
  int64_t n = 0;
  for (auto _ : state) {
    if (with_load) (void)load();
    auto p = pipeline::PredictDate(in, model.get(), model->ma_spread, config);
    if (!p.ok()) state.SkipWithError(p.status().ToString().c_str());
    n = p->players;
  }
  state.counters["players"] = static_cast<double>(n);
}

BENCHMARK(BM_Phase4WholeSeason)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Phases4And5TwoWorkers)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_TrainUntil20240124)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_PredictOneDay)->Arg(0)->Arg(1)->ArgName("with_store_read")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nbaprops

BENCHMARK_MAIN();
