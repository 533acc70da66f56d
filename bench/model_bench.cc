// Benchmarks of phases 4-5 on the bundled 2023-24 season: phase 4 for every date, training the
// points model (on this season and on every bundled season), and one day's predictions by all
// systems. Run: make bench
//
// Setup (not timed): import the season and run phase 3 for every date into a temporary SQLite
// file; phase 4 once so training has rows.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
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

// A temporary SQLite file with these bundles imported and every game date through phase 4.
Season* Build(const char* name, const std::vector<std::string>& bundles) {
  auto* s = new Season();
  s->path = (std::filesystem::temp_directory_path() /
             ("nbaprops-model-bench-" + std::string(name) + "-" + std::to_string(::getpid()) + ".db"))
                .string();
  s->store = store::OpenStore(s->path).value();
  (void)store::Migrate(*s->store);
  s->runner = pipeline::MakeRunner(*s->store, SystemClock::Default(), Config{}).value();
  pipeline::Ingestor ing(*s->runner);
  std::vector<std::string> paths;
  for (const std::string& b : bundles) paths.push_back(std::string(NBAPROPS_SOURCE_DIR) + "/data/" + b);
  for (const auto& r : ing.ImportPaths(paths, std::nullopt)) {
    if (!r.status.ok()) std::fprintf(stderr, "import %s: %s\n", r.path.c_str(), r.status.ToString().c_str());
  }
  s->dates = pipeline::GameDates(*s->store).value();
  for (const std::string& d : s->dates) {
    for (int phase : {3, 4}) {
      if (!pipeline::RunDate(*s->runner, d, phase, "backfill").ok()) std::fprintf(stderr, "setup failed on %s\n", d.c_str());
    }
  }
  std::fprintf(stderr, "setup %s: %zu game dates through phase 4\n", name, s->dates.size());
  return s;
}

void RemoveFiles(const Season* s) {
  if (!s) return;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(s->path + suffix);
}

Season* all_seasons = nullptr;

Season& Shared() {
  static Season* s = [] {
    Season* s = Build("2023-24", {"2023-24"});
    std::atexit([] {
      RemoveFiles(&Shared());
      RemoveFiles(all_seasons);
    });
    return s;
  }();
  return *s;
}

// Every bundled season: 2018-19, 2019-20, 2020-21 (no player lines or injuries) and 2023-24.
Season& AllSeasons() {
  Shared();  // registers the clean-up
  if (!all_seasons) all_seasons = Build("all", {"2018-19", "2019-20", "2020-21", "2023-24"});
  return *all_seasons;
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

// The same work as a backfill runs it: each phase-4 processor as range runs of
// pipeline::kBackfillRangeDays dates (Runner::ExecuteRange: one claim and one commit per range,
// a ledger run per date).
void BM_Phase4WholeSeasonAsRanges(benchmark::State& state) {
  Season& s = Shared();
  const size_t n = pipeline::kBackfillRangeDays;
  for (auto _ : state) {
    for (size_t i = 0; i < s.dates.size(); i += n) {
      std::vector<std::string> range(s.dates.begin() + i, s.dates.begin() + std::min(s.dates.size(), i + n));
      for (const auto& r : pipeline::RunDates(*s.runner, range, 4, "backfill")) {
        if (!r.ok()) state.SkipWithError(("phase 4 failed on " + r.date).c_str());
      }
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

pipeline::TrainingSet TrainingRows(const std::string& before, Season& s = Shared(),
                                   const std::string& from = "2023-09-01") {
  pipeline::TrainingSet set;
  (void)s.store->WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(set, pipeline::LoadTrainingSet(t, from, before));
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

// `train --train-from 2018-09-01 --until 2024-01-24` on every bundled season (setup, not timed:
// the four seasons through phase 4).
void BM_TrainAllSeasonsUntil20240124(benchmark::State& state) {
  pipeline::TrainingSet set = TrainingRows("2024-01-24", AllSeasons(), "2018-09-01");
  for (auto _ : state) {
    auto m = pipeline::Model::Train(set, pipeline::TrainOptions{}, "2024-01-24");
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
  }
  state.counters["rows"] = static_cast<double>(set.size());
}

// One day's predictions by all four systems (moving_average, xgboost, ensemble, market), the
// model already loaded: 2024-04-12, a 15-game slate.
void BM_PredictOneDay(benchmark::State& state) {
  const std::string date = "2024-04-12";
  auto model = pipeline::Model::Train(TrainingRows(date), pipeline::TrainOptions{}, date).value();
  pipeline::DateInputs in;
  const bool with_load = state.range(0) == 1;
  auto load = [&] {
    return Shared().store->WithRead([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(in, pipeline::LoadDateInputs(t, date));
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
BENCHMARK(BM_Phase4WholeSeasonAsRanges)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_Phases4And5TwoWorkers)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_TrainUntil20240124)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_TrainAllSeasonsUntil20240124)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
BENCHMARK(BM_PredictOneDay)->Arg(0)->Arg(1)->ArgName("with_store_read")->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nbaprops

BENCHMARK_MAIN();
