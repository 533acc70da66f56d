// Queue benchmarks on a real SQLite file (run: make bench):
//   BM_ClaimComplete/W      claim + execute + commit of trivial runs with W worker threads
//   BM_ClaimCompletePg/W    the same on PostgreSQL, when NBAPROPS_BENCH_PG_URL names a server
//                           (scripts/pg_bench.sh starts a throwaway one and sets it)
//   BM_TriggerLatency       upstream commit -> downstream claim, in-process (p50/p99 counters)
//   BM_ReaperDetection      a claimed run whose worker vanished: time from claim to `failed`
//                           with a 1 s lease and the reaper polling every 100 ms
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/runner.h"
#include "engine/worker_pool.h"
#include "store/migrations.h"
#include "tests/side_table_processor.h"

namespace nbaprops {
namespace {

using Steady = std::chrono::steady_clock;

// A PostgreSQL server for the *Pg benchmarks; empty: they are skipped.
std::string PgUrl() {
  const char* url = std::getenv("NBAPROPS_BENCH_PG_URL");
  return url ? url : "";
}

// An empty database: a new SQLite file, or a new schema on the PostgreSQL server, dropped again
// when the benchmark is done with it (so the catalog does not grow from one iteration to the
// next and slow the later ones down).
struct BenchStore {
  BenchStore() = default;
  BenchStore(BenchStore&&) = default;
  std::unique_ptr<store::Store> store;
  std::string schema;  // PostgreSQL
  ~BenchStore() {
    store.reset();
    if (schema.empty()) return;
    auto admin = store::OpenStore(PgUrl()).value();
    (void)admin->WithWrite([&](store::Transaction& t) { return t.Exec("DROP SCHEMA " + schema + " CASCADE").status(); });
  }
  store::Store& operator*() { return *store; }
  store::Store* operator->() { return store.get(); }
};

BenchStore FreshStore(bool postgres = false) {
  BenchStore out;
  std::string url;
  if (postgres) {
    static int counter = 0;
    out.schema = "qbench_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    auto admin = store::OpenStore(PgUrl()).value();
    (void)admin->WithWrite([&](store::Transaction& t) {
      RETURN_IF_ERROR(t.Exec("DROP SCHEMA IF EXISTS " + out.schema + " CASCADE").status());
      return t.Exec("CREATE SCHEMA " + out.schema).status();
    });
    url = PgUrl() + (PgUrl().find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + out.schema;
  } else {
    auto p = std::filesystem::temp_directory_path() / ("nbaprops-qbench-" + std::to_string(::getpid()) + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
    url = p.string();
  }
  out.store = store::OpenStore(url).value();
  (void)store::Migrate(*out.store);
  (void)out.store->WithWrite([](store::Transaction& t) { return t.Exec(testing::SideTableProcessor::kTableSql).status(); });
  return out;
}

void Seed(store::Store& s, const std::string& processor, int n) {
  (void)s.WithWrite([&](store::Transaction& t) -> Status {
    for (int i = 0; i < n; ++i) {
      engine::RunStart r{processor, 2, "p" + std::to_string(i), "", "manual", std::nullopt, 1, 0, std::nullopt};
      RETURN_IF_ERROR(engine::Ledger::Enqueue(t, r, 0).status());
    }
    return OkStatus();
  });
}

void ClaimComplete(benchmark::State& state, bool postgres) {
  if (postgres && PgUrl().empty()) {
    state.SkipWithError("set NBAPROPS_BENCH_PG_URL (or run scripts/pg_bench.sh)");
    return;
  }
  const int workers = static_cast<int>(state.range(0));
  constexpr int kRuns = 5000;
  int64_t grouped = 0, transactions = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto s = FreshStore(postgres);
      Seed(*s, "side", kRuns);
      engine::Runner runner(*s, SystemClock::Default());
      auto processor = std::make_unique<testing::SideTableProcessor>();
      processor->partition_local = state.range(1) != 0;
      (void)runner.Register(std::move(processor));
      engine::WorkerPoolOptions po;
      po.threads = workers;
      po.idle_poll_ms = 1;
      po.reaper = false;
      engine::WorkerPool pool(runner, po);
      state.ResumeTiming();
      pool.Start();
      while (pool.runs_executed() < kRuns) std::this_thread::sleep_for(std::chrono::microseconds(200));
      state.PauseTiming();
      pool.Stop();
      grouped += runner.commit_group().commits();
      transactions += runner.commit_group().transactions();
    }  // the store goes (its schema dropped) while the clock is paused
    state.ResumeTiming();
  }
  state.counters["runs_per_s"] = benchmark::Counter(static_cast<double>(kRuns) * state.iterations(),
                                                    benchmark::Counter::kIsRate);
  // Group commit (partition-local commits only): the share of runs committed with others, and
  // runs per commit transaction.
  if (transactions > 0) {
    state.counters["grouped"] = static_cast<double>(grouped) / (static_cast<double>(kRuns) * state.iterations());
    state.counters["per_txn"] = static_cast<double>(kRuns) * state.iterations() / static_cast<double>(transactions);
  }
}
void BM_ClaimComplete(benchmark::State& state) { ClaimComplete(state, false); }
void BM_ClaimCompletePg(benchmark::State& state) { ClaimComplete(state, true); }
// Args: worker threads, and whether the processor declares partition-local commits (which on
// PostgreSQL commit side by side instead of one at a time; no difference on SQLite).
BENCHMARK(BM_ClaimComplete)
    ->ArgsProduct({{1, 4, 8}, {0}})
    ->ArgNames({"workers", "local"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);
BENCHMARK(BM_ClaimCompletePg)
    ->ArgsProduct({{1, 4, 8}, {0, 1}})
    ->ArgNames({"workers", "local"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

// Processor that records when it started (downstream) or committed (upstream).
class StampProcessor : public testing::SideTableProcessor {
 public:
  StampProcessor(std::string name, std::vector<std::string> inputs, std::map<std::string, Steady::time_point>* stamps,
                 std::mutex* mu, bool stamp_start)
      : SideTableProcessor(std::move(name), std::move(inputs)), stamps_(stamps), mu_(mu), stamp_start_(stamp_start) {}
  Status Run(engine::RunContext& ctx) override {
    if (stamp_start_) Stamp(ctx);
    Status s = SideTableProcessor::Run(ctx);
    if (!stamp_start_) Stamp(ctx);
    return s;
  }

 private:
  void Stamp(engine::RunContext& ctx) {
    std::lock_guard<std::mutex> lock(*mu_);
    (*stamps_)[name() + "|" + ctx.partition_key()] = Steady::now();
  }
  std::map<std::string, Steady::time_point>* stamps_;
  std::mutex* mu_;
  bool stamp_start_;
};

void BM_TriggerLatency(benchmark::State& state) {
  constexpr int kChains = 1000;
  std::vector<double> latencies;
  for (auto _ : state) {
    auto s = FreshStore();
    std::map<std::string, Steady::time_point> stamps;
    std::mutex mu;
    engine::Runner runner(*s, SystemClock::Default());
    (void)runner.Register(std::make_unique<StampProcessor>("up", std::vector<std::string>{}, &stamps, &mu, false));
    (void)runner.Register(std::make_unique<StampProcessor>("down", std::vector<std::string>{"up"}, &stamps, &mu, true));
    Seed(*s, "up", kChains);
    engine::WorkerPoolOptions po;
    po.threads = 4;
    po.idle_poll_ms = 200;  // latency must come from the trigger wake-up, not from polling
    po.reaper = false;
    engine::WorkerPool pool(runner, po);
    pool.Start();
    while (pool.runs_executed() < 2 * kChains) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    pool.Stop();
    for (int i = 0; i < kChains; ++i) {
      std::string part = "p" + std::to_string(i);
      auto up = stamps["up|" + part], down = stamps["down|" + part];
      latencies.push_back(std::chrono::duration<double, std::milli>(down - up).count());
    }
  }
  std::sort(latencies.begin(), latencies.end());
  state.counters["p50_ms"] = latencies[latencies.size() / 2];
  state.counters["p99_ms"] = latencies[latencies.size() * 99 / 100];
  state.counters["max_ms"] = latencies.back();
}
BENCHMARK(BM_TriggerLatency)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

void BM_ReaperDetection(benchmark::State& state) {
  std::vector<double> detect;
  for (auto _ : state) {
    auto s = FreshStore();
    Seed(*s, "side", 1);
    engine::EngineOptions o;
    o.lease_ms = 1000;
    o.heartbeat_ms = 200;
    engine::Runner runner(*s, SystemClock::Default(), o);
    (void)runner.Register(std::make_unique<testing::SideTableProcessor>());
    // A worker claims the run and vanishes (no heartbeat, no commit), as after kill -9.
    auto claimed = engine::Queue::ClaimNext(*s, "ghost", SystemClock::Default().NowMillis(), o.lease_ms, 1);
    auto t0 = Steady::now();
    engine::WorkerPoolOptions po;
    po.threads = 0;
    po.reap_every_ms = 100;
    engine::WorkerPool pool(runner, po);
    pool.Start();
    while (pool.lease_expiries() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    detect.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    pool.Stop();
    (void)claimed;
  }
  std::sort(detect.begin(), detect.end());
  state.counters["detect_ms_max"] = detect.back();
  state.counters["lease_ms"] = 1000;
}
BENCHMARK(BM_ReaperDetection)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace
}  // namespace nbaprops
BENCHMARK_MAIN();
