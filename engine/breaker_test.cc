// Circuit breakers on a fake clock (no sleeps) and a real SQLite file: the state machine through
// the API, and through the runner (deferral instead of failure, one probe, recovery).
#include "engine/breaker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine/incidents.h"
#include "engine/runner.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::SideTableProcessor;
using nbaprops::testing::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kT0 = 1'706'745'600'000;  // 2024-02-01T00:00:00Z
constexpr char kSource[] = "weather_api";

// A side-table processor that calls one external source and counts its executions.
class SourcedProcessor : public SideTableProcessor {
 public:
  explicit SourcedProcessor(std::string name = "fetch") : SideTableProcessor(std::move(name)) {}
  std::vector<std::string> sources() const override { return {kSource}; }
  Status Run(RunContext& ctx) override {
    ++executions;
    return SideTableProcessor::Run(ctx);
  }
  int executions = 0;
};

class BreakerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(dir_.File("b.db"));
    ASSERT_TRUE(
        store_->WithWrite([](store::Transaction& t) { return t.Exec(SideTableProcessor::kTableSql).status(); }).ok());
    MakeRunner();
  }
  void MakeRunner() {
    EngineOptions o;
    o.lease_ms = 30'000;
    o.heartbeat_ms = 3'600'000;  // the background heartbeat never fires during a test
    o.seed = 42;
    o.worker_id = "w1";
    runner_ = std::make_unique<Runner>(*store_, clock_, o);
    auto p = std::make_unique<SourcedProcessor>();
    fetch_ = p.get();
    ASSERT_TRUE(runner_->Register(std::move(p)).ok());
    auto plain = std::make_unique<SideTableProcessor>("plain");
    ASSERT_TRUE(runner_->Register(std::move(plain)).ok());
  }

  int64_t Enqueue(const std::string& part, const std::string& processor = "fetch", const std::string& date = "") {
    int64_t id = 0;
    EXPECT_TRUE(store_
                    ->WithWrite([&](store::Transaction& t) -> Status {
                      RunStart s{processor, 2, part, date, "manual", std::nullopt, 1, 0, std::nullopt};
                      ASSIGN_OR_RETURN(id, Ledger::Enqueue(t, s, clock_.NowSeconds()));
                      return OkStatus();
                    })
                    .ok());
    return id;
  }
  // Claims the next runnable run without executing it (a run "in flight").
  int64_t Claim() {
    auto c = Queue::ClaimNext(*store_, "w1", clock_.NowMillis(), 30'000, 7);
    EXPECT_TRUE(c.ok() && c->has_value());
    return c.ok() && c->has_value() ? (*c)->run.run_id : 0;
  }

  Admission DoAdmit(int64_t run_id) {
    Admission a;
    Status st = store_->WithWrite([&](store::Transaction& t) -> Status {
      ASSIGN_OR_RETURN(a, Admit(t, kSource, run_id, clock_.NowMillis()));
      return OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return a;
  }
  void Fail(int64_t run_id, const std::string& error = "HTTP 503 from the weather API") {
    Status st = store_->WithWrite([&](store::Transaction& t) -> Status {
      return RecordFailure(t, kSource, run_id, error, clock_.NowMillis()).status();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  void Succeed(int64_t run_id) {
    Status st =
        store_->WithWrite([&](store::Transaction& t) { return RecordSuccess(t, kSource, run_id, clock_.NowMillis()); });
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  CircuitBreaker Get() {
    auto b = nbaprops::testing::ReadValue<std::optional<CircuitBreaker>>(
        *store_, [&](store::Transaction& t) { return GetBreaker(t, kSource); });
    EXPECT_TRUE(b.has_value());
    return b.value_or(CircuitBreaker{});
  }
  std::optional<Incident> OpenIncidentFor() {
    return nbaprops::testing::ReadValue<std::optional<Incident>>(
        *store_, [&](store::Transaction& t) { return GetOpenIncident(t, BreakerIncidentKey(kSource)); });
  }
  // Trips the breaker with five failures at the current time.
  void Trip() {
    for (int i = 0; i < 5; ++i) Fail(1000 + i);
    ASSERT_EQ(Get().state, BreakerState::kOpen);
  }

  TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Runner> runner_;
  SourcedProcessor* fetch_ = nullptr;
};

TEST_F(BreakerTest, OpensAfterFiveConsecutiveFailures) {
  EXPECT_TRUE(DoAdmit(1).allowed);  // no row: closed
  for (int i = 0; i < 4; ++i) Fail(i + 1);
  Succeed(5);  // a success in between resets the consecutive count
  for (int i = 0; i < 4; ++i) Fail(i + 6);
  EXPECT_EQ(Get().state, BreakerState::kClosed);
  EXPECT_EQ(Get().consecutive_failures, 4);
  EXPECT_FALSE(OpenIncidentFor().has_value());

  clock_.AdvanceMillis(11 * 60'000);  // a fresh window, so only the consecutive rule can fire
  Fail(10, "HTTP 503 Service Unavailable");
  CircuitBreaker b = Get();
  EXPECT_EQ(b.state, BreakerState::kOpen);
  EXPECT_EQ(b.consecutive_failures, 5);
  EXPECT_EQ(b.opened_at, clock_.NowMillis());
  EXPECT_EQ(b.next_probe_at, clock_.NowMillis() + 60'000);
  EXPECT_EQ(b.times_opened, 1);
  EXPECT_EQ(b.last_error, "HTTP 503 Service Unavailable");
  auto incident = OpenIncidentFor();
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(incident->severity, "warning");
  EXPECT_THAT(incident->summary, HasSubstr("5 consecutive failures"));
  EXPECT_THAT(incident->details, HasSubstr("\"cooldown_ms\":60000"));
  EXPECT_EQ(incident->related_runs, std::vector<int64_t>{10});

  Admission a = DoAdmit(11);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.denied_until_ms, clock_.NowMillis() + 60'000);
  EXPECT_THAT(a.reason, HasSubstr("circuit breaker for weather_api is open until 2024-02-01T00:12:00Z"));
}

TEST_F(BreakerTest, OpensOnAFailureRateOverTheWindow) {
  // Alternating outcomes never reach 5 in a row, but half of 10 requests in 10 minutes fail.
  for (int i = 0; i < 9; ++i) {
    if (i % 2 == 0) {
      Fail(i + 1);
    } else {
      Succeed(i + 1);
    }
    clock_.AdvanceMillis(30'000);
    EXPECT_EQ(Get().state, BreakerState::kClosed) << "after request " << i + 1;
  }
  EXPECT_EQ(Get().window_requests, 9);
  EXPECT_EQ(Get().window_failures, 5);  // 5 of 9, but fewer than 10 requests: not yet
  Succeed(10);
  EXPECT_EQ(Get().state, BreakerState::kClosed);  // 5 of 10 after a success: the rule is judged on failures
  Fail(11);
  EXPECT_EQ(Get().state, BreakerState::kOpen);  // 6 of 11
  EXPECT_THAT(OpenIncidentFor()->summary, HasSubstr("6 of 11 requests failed in 10 min"));
}

TEST_F(BreakerTest, TheWindowTumblesSoOldFailuresDoNotCount) {
  for (int i = 0; i < 4; ++i) {
    Fail(i + 1);
    Succeed(100 + i);
  }
  EXPECT_EQ(Get().window_requests, 8);
  clock_.AdvanceMillis(10 * 60'000);  // the window is over
  Fail(9);
  Fail(10);
  CircuitBreaker b = Get();
  EXPECT_EQ(b.state, BreakerState::kClosed);
  EXPECT_EQ(b.window_requests, 2);
  EXPECT_EQ(b.window_failures, 2);
  EXPECT_EQ(b.window_start, clock_.NowMillis());
}

TEST_F(BreakerTest, StatePersistsAcrossReopeningTheStore) {
  Trip();
  const CircuitBreaker before = Get();
  runner_.reset();
  store_.reset();
  store_ = OpenTestStore(dir_.File("b.db"));
  MakeRunner();
  CircuitBreaker after = Get();
  EXPECT_EQ(after.state, BreakerState::kOpen);
  EXPECT_EQ(after.next_probe_at, before.next_probe_at);
  EXPECT_EQ(after.consecutive_failures, 5);
  EXPECT_EQ(after.times_opened, 1);
  clock_.AdvanceMillis(59'999);
  EXPECT_FALSE(DoAdmit(2000).allowed);
  std::vector<CircuitBreaker> all;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(all, ListBreakers(t));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].source, kSource);
}

TEST_F(BreakerTest, RunsNeedingAnOpenSourceAreDeferredNotFailedAndNotExecuted) {
  Trip();
  const int64_t probe_at = Get().next_probe_at.value();
  std::vector<int64_t> ids;
  for (const char* part : {"p1", "p2", "p3"}) ids.push_back(Enqueue(part));
  Enqueue("p1", "plain");  // needs no source: runs as usual
  auto outcomes = runner_->DrainQueue();
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  ASSERT_EQ(outcomes->size(), 4u);
  EXPECT_EQ(fetch_->executions, 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions WHERE processor = 'plain'"), 1);
  for (int64_t id : ids) {
    std::optional<RunRecord> r;
    ASSERT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(r, Ledger::Get(t, id));
                      return OkStatus();
                    })
                    .ok());
    EXPECT_EQ(r->status, "deferred");
    EXPECT_EQ(r->error_category, "upstream_incomplete");
    EXPECT_THAT(r->error_message, HasSubstr("circuit breaker for weather_api is open until 2024-02-01T00:01:00Z"));
  }
  for (const auto& o : *outcomes) {
    if (o.processor == "fetch") {
      EXPECT_EQ(o.category, FailureCategory::kUpstreamIncomplete);
    }
  }
  // Re-queued as the same attempt, not runnable before the probe time; nothing dead.
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND attempt = 1 AND "
                  "not_before = " +
                      std::to_string(probe_at)),
            3);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters"), 0);
  // Deferrals add nothing to the breaker's counts: it was not asked.
  EXPECT_EQ(Get().consecutive_failures, 5);
  EXPECT_EQ(Get().window_requests, 5);
}

TEST_F(BreakerTest, HalfOpenAdmitsExactlyOneProbe) {
  Trip();
  Enqueue("p1");
  Enqueue("p2");
  clock_.AdvanceMillis(59'999);
  const int64_t a = Claim();  // both in flight, with live leases
  const int64_t b = Claim();
  EXPECT_FALSE(DoAdmit(a).allowed);
  clock_.AdvanceMillis(1);
  Admission first = DoAdmit(a);
  EXPECT_TRUE(first.allowed);
  EXPECT_TRUE(first.probe);
  EXPECT_EQ(Get().state, BreakerState::kHalfOpen);
  EXPECT_EQ(Get().probe_run_id, a);
  Admission second = DoAdmit(b);
  EXPECT_FALSE(second.allowed);
  EXPECT_EQ(second.denied_until_ms, clock_.NowMillis() + 15'000);
  EXPECT_THAT(second.reason, HasSubstr("probe run " + std::to_string(a) + " is in flight"));
  EXPECT_TRUE(DoAdmit(a).allowed);  // asking again for the probe itself is harmless
  EXPECT_EQ(Get().probe_run_id, a);
}

TEST_F(BreakerTest, AFailedProbeReopensWithADoubledCooldownUpToTheCap) {
  Trip();
  Enqueue("p1");
  const int64_t probe = Claim();
  std::vector<int64_t> cooldowns;
  for (int i = 0; i < 7; ++i) {
    clock_.SetMillis(Get().next_probe_at.value());
    ASSERT_TRUE(DoAdmit(probe).probe);
    Fail(probe);
    CircuitBreaker b = Get();
    ASSERT_EQ(b.state, BreakerState::kOpen);
    EXPECT_EQ(b.opened_at, clock_.NowMillis());
    cooldowns.push_back(b.next_probe_at.value() - b.opened_at.value());
    EXPECT_EQ(b.times_opened, 1);  // one episode
  }
  EXPECT_EQ(cooldowns, (std::vector<int64_t>{120'000, 240'000, 480'000, 960'000, 1'800'000, 1'800'000, 1'800'000}));
  auto incident = OpenIncidentFor();
  ASSERT_TRUE(incident.has_value());
  EXPECT_EQ(incident->count, 8);  // opened once, bumped by every failed probe
  EXPECT_THAT(incident->summary, HasSubstr("probe run " + std::to_string(probe) + " failed"));
}

TEST_F(BreakerTest, ASuccessClosesAndResolvesTheIncident) {
  Trip();
  Enqueue("p1");
  const int64_t probe = Claim();
  clock_.AdvanceMillis(60'000);
  ASSERT_TRUE(DoAdmit(probe).probe);
  Succeed(probe);
  CircuitBreaker b = Get();
  EXPECT_EQ(b.state, BreakerState::kClosed);
  EXPECT_EQ(b.consecutive_failures, 0);
  EXPECT_EQ(b.window_requests, 0);
  EXPECT_EQ(b.window_failures, 0);
  EXPECT_FALSE(b.next_probe_at.has_value());
  EXPECT_FALSE(b.probe_run_id.has_value());
  EXPECT_EQ(b.last_change_at, clock_.NowMillis());
  EXPECT_FALSE(OpenIncidentFor().has_value());
  std::vector<Incident> all;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(all, ListIncidents(t, false));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].status, "resolved");
  EXPECT_EQ(all[0].resolved_at, clock_.NowMillis());
  EXPECT_TRUE(DoAdmit(4242).allowed);
  // The next outage is a new episode with a new incident.
  Trip();
  EXPECT_EQ(Get().times_opened, 2);
  EXPECT_EQ(OpenIncidentFor()->count, 1);
}

TEST_F(BreakerTest, ADeadProbeDoesNotWedgeTheBreaker) {
  Trip();
  Enqueue("p1");
  Enqueue("p2");
  Enqueue("p3");
  clock_.AdvanceMillis(60'000);
  const int64_t a = Claim();  // lease until now + 30 s
  ASSERT_TRUE(DoAdmit(a).probe);
  // The probe's worker dies. While its lease is valid, nobody else may probe.
  clock_.AdvanceMillis(29'999);
  const int64_t b = Claim();
  EXPECT_FALSE(DoAdmit(b).allowed);
  // Lease expired (not yet reaped): the probe can never report, so the next run takes over.
  clock_.AdvanceMillis(1);
  Admission takeover = DoAdmit(b);
  EXPECT_TRUE(takeover.allowed);
  EXPECT_TRUE(takeover.probe);
  EXPECT_EQ(Get().probe_run_id, b);
  // Same once the reaper has failed it: b's run is reaped too, and c takes over.
  clock_.AdvanceMillis(30'000);
  ASSERT_TRUE(runner_->Reap().ok());
  const int64_t c = Claim();
  EXPECT_TRUE(DoAdmit(c).probe);
  EXPECT_EQ(Get().probe_run_id, c);
  EXPECT_EQ(Get().state, BreakerState::kHalfOpen);
}

TEST_F(BreakerTest, OnlySourceFailuresCount) {
  fetch_->fail = [](RunContext&) { return InvalidArgumentError("row 3: field 3 is not a number"); };
  for (int i = 0; i < 6; ++i) Enqueue("p" + std::to_string(i));
  ASSERT_TRUE(runner_->DrainQueue().ok());
  EXPECT_EQ(fetch_->executions, 6);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM circuit_breakers"), 0);  // bad input is not the source's fault
  fetch_->fail = [](RunContext&) { return Status(StatusCode::kDeadlineExceeded, "weather API timed out after 10 s"); };
  for (int i = 0; i < 6; ++i) Enqueue("q" + std::to_string(i));
  ASSERT_TRUE(runner_->DrainQueue().ok());
  EXPECT_EQ(fetch_->executions, 11);  // the sixth was deferred by the breaker the fifth opened
  EXPECT_EQ(Get().state, BreakerState::kOpen);
  EXPECT_EQ(Get().last_error, "weather API timed out after 10 s");
}

TEST_F(BreakerTest, ASourceDownForAnHourThenBackCompletesEveryPartitionExactlyOnce) {
  constexpr int kPartitions = 20;
  const int64_t recovers_at = kT0 + 60 * 60'000;
  int failed_executions = 0;
  for (int i = 0; i < kPartitions; ++i) {
    char date[16];
    std::snprintf(date, sizeof date, "2024-01-%02d", i + 1);
    Enqueue(std::string("d") + date, "fetch", date);
  }
  // Every request fails until the source recovers; then the run writes its partition.
  fetch_->fail = [&](RunContext& ctx) -> Status {
    if (clock_.NowMillis() >= recovers_at) {
      return ctx.CommitOutput([&](store::Transaction& t) -> Status {
        RETURN_IF_ERROR(t.Exec("INSERT INTO executions (processor, part, run_id) VALUES ('fetch', ?, ?)",
                               {ctx.partition_key(), ctx.run_id()})
                            .status());
        ctx.records_out = 1;
        return OkStatus();
      });
    }
    ++failed_executions;
    return UnavailableError("HTTP 503 from the weather API");
  };
  // Run the queue, then jump the clock to the next time something becomes runnable.
  const int64_t give_up_at = kT0 + 12 * 3'600'000;
  while (clock_.NowMillis() < give_up_at) {
    ASSERT_TRUE(runner_->DrainQueue().ok());
    ASSERT_TRUE(runner_->Reap().ok());
    const int64_t next =
        Count(*store_, "SELECT COALESCE(MIN(not_before), 0) FROM processor_runs WHERE status = 'queued'");
    if (next == 0) break;
    clock_.SetMillis(std::max(clock_.NowMillis() + 1, next));
  }
  EXPECT_LT(clock_.NowMillis(), give_up_at);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions WHERE processor = 'fetch'"), kPartitions);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(DISTINCT part) FROM executions WHERE processor = 'fetch'"), kPartitions);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded'"), kPartitions);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running', 'dead')"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM dead_letters"), 0);
  // Only the failures before the breaker opened cost attempts; nothing got near max_attempts.
  EXPECT_LE(Count(*store_, "SELECT MAX(attempt) FROM processor_runs"), 2);
  // While the source was down it was asked five times, then once per cool-down (each failed probe
  // bumped the incident), not once per run.
  std::vector<Incident> incidents;
  ASSERT_TRUE(store_
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(incidents, ListIncidents(t, false));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].status, "resolved");
  EXPECT_GE(incidents[0].resolved_at.value_or(0), recovers_at);
  EXPECT_EQ(failed_executions, 5 + (incidents[0].count - 1));
  EXPECT_EQ(incidents[0].count, 6);  // probes at +1, +3, +7, +15, +31 min failed; +61 min succeeded
  EXPECT_EQ(incidents[0].resolved_at, kT0 + 61 * 60'000);
  CircuitBreaker b = Get();
  EXPECT_EQ(b.state, BreakerState::kClosed);
  EXPECT_EQ(b.times_opened, 1);
}

}  // namespace
}  // namespace nbaprops::engine
