// Benchmarks of phases 4-5 on the bundled 2023-24 season: phase 4 for every date, training the
// points model, and one day's predictions by all systems. Run: make bench
//
// Setup (not timed): import the season and run phase 3 for every date into a temporary SQLite
// file; phase 4 once so training has rows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "base/clock.h"
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
    ing.ImportPaths({std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24"}, std::nullopt);
    s->dates = pipeline::GameDates(*s->store).value();
    for (const std::string& d : s->dates) {
      pipeline::RunDate(*s->runner, d, 3, "backfill");
      pipeline::RunDate(*s->runner, d, 4, "backfill");
    }
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
BENCHMARK(BM_TrainUntil20240124)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_PredictOneDay)->Arg(0)->Arg(1)->ArgName("with_store_read")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nbaprops

BENCHMARK_MAIN();
