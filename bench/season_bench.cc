// Benchmark: the bundled 2023-24 season through phases 1-3 (import + parse + registry +
// analytics) into a fresh SQLite file, as `make demo` does. Run: make bench
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "base/clock.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"
#include "store/migrations.h"

namespace nbaprops {
namespace {

std::string FreshDbPath() {
  auto p = std::filesystem::temp_directory_path() / ("nbaprops-bench-" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

void RunSeason(benchmark::State& state, int phases) {
  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  int64_t rows = 0;
  for (auto _ : state) {
    std::string path = FreshDbPath();
    auto store = store::OpenStore(path).value();
    (void)store::Migrate(*store);
    auto runner = pipeline::MakeRunner(*store, SystemClock::Default(), Config{}).value();
    pipeline::Ingestor ing(*runner);
    rows = 0;
    for (const auto& r : ing.ImportPaths({data}, std::nullopt)) {
      if (!r.status.ok()) state.SkipWithError(r.status.ToString().c_str());
      rows += r.read;
    }
    if (phases >= 3) {
      auto dates = pipeline::GameDates(*store).value();
      for (const auto& d : pipeline::Backfill(*runner, dates.front(), dates.back(), 3, nullptr)) {
        if (!d.ok()) state.SkipWithError(("phase 3 failed on " + d.date).c_str());
      }
    }
  }
  state.counters["input_records"] = static_cast<double>(rows);
  state.counters["records_per_s"] =
      benchmark::Counter(static_cast<double>(rows) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_SeasonImportPhases1And2(benchmark::State& state) { RunSeason(state, 2); }
void BM_SeasonPhases1To3(benchmark::State& state) { RunSeason(state, 3); }
BENCHMARK(BM_SeasonImportPhases1And2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SeasonPhases1To3)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace nbaprops

BENCHMARK_MAIN();
