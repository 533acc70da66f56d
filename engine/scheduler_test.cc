#include "engine/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time.h"
#include "engine/incidents.h"
#include "tests/test_util.h"

namespace nbaprops::engine {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

int64_t Ms(const char* iso) {
  std::optional<int64_t> s = ParseIsoTimestamp(iso);
  EXPECT_TRUE(s.has_value()) << iso;
  return s.value_or(0) * 1000;
}

// Same DDL as the migration; IF NOT EXISTS so the test also runs once the migration has it.
constexpr const char* kSchedulerDdl[] = {
    "CREATE TABLE IF NOT EXISTS schedules (name TEXT PRIMARY KEY, cron TEXT NOT NULL, time_zone TEXT NOT NULL, "
    "last_fire_at INTEGER, last_checked_at INTEGER, enabled INTEGER NOT NULL DEFAULT 1)",
    "CREATE TABLE IF NOT EXISTS incidents (id INTEGER PRIMARY KEY, incident_key TEXT NOT NULL, severity TEXT NOT NULL, "
    "status TEXT NOT NULL CHECK (status IN ('open','resolved')), summary TEXT NOT NULL, details TEXT, "
    "opened_at INTEGER NOT NULL, resolved_at INTEGER, last_seen_at INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1)",
    "CREATE UNIQUE INDEX IF NOT EXISTS incidents_open_key ON incidents (incident_key) WHERE status = 'open'",
    // What the actions write, to prove they commit (or roll back) with the fire.
    "CREATE TABLE IF NOT EXISTS fires (name TEXT NOT NULL, fire_time INTEGER NOT NULL)",
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  // Opening again is a process restart as far as the database is concerned.
  void Open() {
    store_.reset();
    store_ = OpenTestStore(dir_.File("sched.db"));
    ASSERT_TRUE(store_
                    ->WithWrite([](store::Transaction& t) -> Status {
                      for (const char* sql : kSchedulerDdl) RETURN_IF_ERROR(t.Exec(sql).status());
                      return OkStatus();
                    })
                    .ok());
  }

  // An action that records its fire in the same transaction and fails while fail_ is set.
  Scheduler::Schedule Recording(const std::string& name, const std::string& cron, const std::string& zone = "UTC") {
    return Scheduler::Schedule{
        name, cron, zone, [this, name](store::Transaction& t, int64_t fire_time) -> Status {
          RETURN_IF_ERROR(t.Exec("INSERT INTO fires (name, fire_time) VALUES (?, ?)", {name, fire_time}).status());
          ++calls_;
          if (fail_) return UnavailableError("the queue is unreachable");
          return OkStatus();
        }};
  }

  std::optional<int64_t> LastFire(const std::string& name) {
    std::optional<int64_t> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(out, t.QueryInt("SELECT last_fire_at FROM schedules WHERE name = ?", {name}));
                      return OkStatus();
                    })
                    .ok());
    return out;
  }

  std::vector<int64_t> FireTimes(const std::string& name) {
    std::vector<int64_t> out;
    EXPECT_TRUE(store_
                    ->WithRead([&](store::Transaction& t) {
                      return t.Query("SELECT fire_time FROM fires WHERE name = ? ORDER BY fire_time", {name},
                                     [&](const store::Row& r) {
                                       out.push_back(r.Int(0));
                                       return OkStatus();
                                     });
                    })
                    .ok());
    return out;
  }

  std::optional<Incident> OpenIncidentFor(const std::string& key) {
    return nbaprops::testing::ReadValue<std::optional<Incident>>(
        *store_, [&](store::Transaction& t) { return GetOpenIncident(t, key); });
  }

  Scheduler::TickResult MustTick(Scheduler& s) {
    StatusOr<Scheduler::TickResult> r = s.Tick();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Scheduler::TickResult{};
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
  FakeClock clock_{Ms("2024-01-15T00:00:00Z")};
  bool fail_ = false;
  int calls_ = 0;
};

TEST_F(SchedulerTest, RegisterValidatesAndStartsAtNow) {
  Scheduler s(*store_, clock_);
  Status bad_cron = s.Register(Recording("daily", "0 25 * * *"));
  EXPECT_EQ(bad_cron.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_cron.message(), HasSubstr("schedule 'daily'"));
  EXPECT_THAT(bad_cron.message(), HasSubstr("hour field \"25\""));
  Status bad_zone = s.Register(Recording("daily", "0 8 * * *", "Eastern"));
  EXPECT_EQ(bad_zone.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_zone.message(), HasSubstr("use an IANA name"));
  Status no_action = s.Register(Scheduler::Schedule{"daily", "0 8 * * *", "UTC", nullptr});
  EXPECT_EQ(no_action.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM schedules"), 0);

  ASSERT_TRUE(s.Register(Recording("daily", "0 8 * * *", "America/New_York")).ok());
  EXPECT_EQ(LastFire("daily"), clock_.NowMillis());
  EXPECT_EQ(s.Register(Recording("daily", "0 9 * * *")).code(), StatusCode::kAlreadyExists);

  // A new schedule does not fire for times before it existed.
  EXPECT_TRUE(MustTick(s).fired.empty());
}

TEST_F(SchedulerTest, ReRegisteringKeepsLastFireAndUpdatesTheSpec) {
  {
    Scheduler s(*store_, clock_);
    ASSERT_TRUE(s.Register(Recording("daily", "0 8 * * *")).ok());
  }
  const int64_t registered_at = clock_.NowMillis();
  clock_.AdvanceMillis(3600'000);
  Scheduler again(*store_, clock_);
  ASSERT_TRUE(again.Register(Recording("daily", "0 9 * * *", "America/New_York")).ok());
  EXPECT_EQ(LastFire("daily"), registered_at);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM schedules WHERE cron = '0 9 * * *' "
                  "AND time_zone = 'America/New_York'"),
            1);
}

TEST_F(SchedulerTest, FiresOnceWhenDueAndTickIsIdempotent) {
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());

  clock_.SetMillis(Ms("2024-01-15T06:59:59Z"));
  EXPECT_TRUE(MustTick(s).fired.empty());

  clock_.SetMillis(Ms("2024-01-15T07:00:00Z"));
  Scheduler::TickResult r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("ingest"));
  EXPECT_EQ(r.skipped_fires, 0);
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z")));
  EXPECT_EQ(LastFire("ingest"), Ms("2024-01-15T07:00:00Z"));

  EXPECT_TRUE(MustTick(s).fired.empty());
  clock_.SetMillis(Ms("2024-01-15T07:00:30Z"));
  EXPECT_TRUE(MustTick(s).fired.empty());
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(Count(*store_, "SELECT last_checked_at FROM schedules WHERE name = 'ingest'"), Ms("2024-01-15T07:00:30Z"));

  // A late tick (11:59 -> 12:04) still fires the 12:00 time, for 12:00.
  clock_.SetMillis(Ms("2024-01-15T12:04:00Z"));
  EXPECT_THAT(MustTick(s).fired, ElementsAre("ingest"));
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z"), Ms("2024-01-15T12:00:00Z")));
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);
}

// Tick(at) is a tick as if the clock read `at`: a replay's last tick, however late it comes,
// fires what was due by the replay's end and nothing after it.
TEST_F(SchedulerTest, ATickAtAGivenTimeFiresWhatWasDueByThenOnly) {
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("ingest", "0 7,12 * * *")).ok());
  clock_.SetMillis(Ms("2024-01-15T13:30:00Z"));  // the tick comes late, after 07:00 and 12:00
  auto r = s.Tick(Ms("2024-01-15T10:00:00Z"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_THAT(r->fired, ElementsAre("ingest"));
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z")));
  EXPECT_THAT(MustTick(s).fired, ElementsAre("ingest"));  // at the clock's time: 12:00 is due now
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z"), Ms("2024-01-15T12:00:00Z")));
}

TEST_F(SchedulerTest, NoDoubleFireAfterRestartOrFromASecondScheduler) {
  {
    Scheduler first(*store_, clock_);
    ASSERT_TRUE(first.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());
    clock_.SetMillis(Ms("2024-01-15T07:00:05Z"));
    EXPECT_THAT(MustTick(first).fired, ElementsAre("ingest"));
  }
  Open();  // the process restarts at the same instant

  Scheduler restarted(*store_, clock_);
  ASSERT_TRUE(restarted.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());
  Scheduler other(*store_, clock_);  // e.g. a second serve process on the same database
  ASSERT_TRUE(other.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());
  EXPECT_TRUE(MustTick(restarted).fired.empty());
  EXPECT_TRUE(MustTick(other).fired.empty());

  clock_.SetMillis(Ms("2024-01-15T12:00:00Z"));
  int fired = 0;
  fired += MustTick(other).fired.size();
  fired += MustTick(restarted).fired.size();
  EXPECT_EQ(fired, 1);
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z"), Ms("2024-01-15T12:00:00Z")));
}

TEST_F(SchedulerTest, CatchUpAfterThreeDaysOfDowntimeFiresOnceAndRecordsSkipped) {
  {
    Scheduler s(*store_, clock_);
    ASSERT_TRUE(s.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());
    clock_.SetMillis(Ms("2024-01-15T07:00:00Z"));
    EXPECT_THAT(MustTick(s).fired, ElementsAre("ingest"));
  }
  // Down from just after 07:00 on the 15th until 13:00 on the 18th. Due meanwhile: 12, 16, 22 on
  // the 15th, four a day on the 16th and 17th, 07 and 12 on the 18th = 13 times.
  Open();
  clock_.SetMillis(Ms("2024-01-18T13:00:00Z"));
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("ingest", "0 7,12,16,22 * * *")).ok());
  Scheduler::TickResult r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("ingest"));
  EXPECT_EQ(r.skipped_fires, 12);
  EXPECT_THAT(FireTimes("ingest"), ElementsAre(Ms("2024-01-15T07:00:00Z"), Ms("2024-01-18T12:00:00Z")));
  EXPECT_EQ(LastFire("ingest"), Ms("2024-01-18T12:00:00Z"));

  std::optional<Incident> inc = OpenIncidentFor("schedule_catch_up:ingest");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->severity, "warning");
  EXPECT_THAT(inc->summary, HasSubstr("skipped 12"));
  EXPECT_THAT(inc->summary, HasSubstr("2024-01-15T12:00:00Z"));
  EXPECT_THAT(inc->details, HasSubstr("\"skipped\":12"));

  // Idempotent: nothing more fires, no second incident.
  r = MustTick(s);
  EXPECT_TRUE(r.fired.empty());
  EXPECT_EQ(r.skipped_fires, 0);
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 1);
}

// A schedule whose every fire time is its own piece of work (a date's report) fires for each
// missed time up to its catch_up, oldest first, all in the one transaction that advances it.
TEST_F(SchedulerTest, CatchUpFiresForEachOfTheLatestMissedTimesUpToItsLimit) {
  auto daily = [&] {
    Scheduler::Schedule d = Recording("report", "0 7 * * *");
    d.catch_up = 2;
    return d;
  };
  {
    Scheduler s(*store_, clock_);
    ASSERT_TRUE(s.Register(daily()).ok());
    clock_.SetMillis(Ms("2024-01-15T07:00:00Z"));
    EXPECT_THAT(MustTick(s).fired, ElementsAre("report"));
  }
  // Down until 08:00 on the 20th: due on the 16th to the 20th, five times; the latest three fire.
  Open();
  clock_.SetMillis(Ms("2024-01-20T08:00:00Z"));
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(daily()).ok());
  Scheduler::TickResult r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("report"));
  EXPECT_EQ(r.skipped_fires, 2);
  EXPECT_THAT(FireTimes("report"), ElementsAre(Ms("2024-01-15T07:00:00Z"), Ms("2024-01-18T07:00:00Z"),
                                               Ms("2024-01-19T07:00:00Z"), Ms("2024-01-20T07:00:00Z")));
  EXPECT_EQ(LastFire("report"), Ms("2024-01-20T07:00:00Z"));
  std::optional<Incident> inc = OpenIncidentFor("schedule_catch_up:report");
  ASSERT_TRUE(inc.has_value());
  EXPECT_THAT(inc->summary, HasSubstr("5 fire times behind"));
  EXPECT_THAT(inc->summary, HasSubstr("fired for each of the latest 3"));
  EXPECT_THAT(inc->details, HasSubstr("\"fired\":3"));
  EXPECT_TRUE(MustTick(s).fired.empty());

  // Fewer missed than the limit: every one fires and none is skipped.
  clock_.SetMillis(Ms("2024-01-22T07:30:00Z"));
  r = MustTick(s);
  EXPECT_EQ(r.skipped_fires, 0);
  EXPECT_EQ(FireTimes("report").size(), 6u);

  // A failing action rolls every catch-up fire back together.
  fail_ = true;
  clock_.SetMillis(Ms("2024-01-25T07:30:00Z"));
  EXPECT_THAT(MustTick(s).failed, ElementsAre("report"));
  EXPECT_EQ(FireTimes("report").size(), 6u);
  EXPECT_EQ(LastFire("report"), Ms("2024-01-22T07:00:00Z"));

  Scheduler::Schedule too_many = Recording("greedy", "0 7 * * *");
  too_many.catch_up = 1000;
  EXPECT_EQ(s.Register(too_many).code(), StatusCode::kInvalidArgument);
}

TEST_F(SchedulerTest, FailingActionLeavesLastFireAndOpensIncidentOthersStillFire) {
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("flaky", "0 7 * * *")).ok());
  bool other_fired = false;
  ASSERT_TRUE(s.Register(Scheduler::Schedule{"steady", "0 7 * * *", "UTC",
                                             [&](store::Transaction&, int64_t) {
                                               other_fired = true;
                                               return OkStatus();
                                             }})
                  .ok());
  const std::optional<int64_t> before = LastFire("flaky");

  fail_ = true;
  clock_.SetMillis(Ms("2024-01-15T07:00:00Z"));
  Scheduler::TickResult r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("steady"));
  EXPECT_THAT(r.failed, ElementsAre("flaky"));
  EXPECT_TRUE(other_fired);
  EXPECT_EQ(LastFire("flaky"), before);
  EXPECT_TRUE(FireTimes("flaky").empty()) << "the action's writes must roll back with it";
  std::optional<Incident> inc = OpenIncidentFor("schedule_failed:flaky");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->severity, "warning");
  EXPECT_THAT(inc->summary, HasSubstr("the queue is unreachable"));
  EXPECT_THAT(inc->summary, HasSubstr("2024-01-15T07:00:00Z"));

  // Retried on every tick; still one incident, counted.
  clock_.SetMillis(Ms("2024-01-15T07:01:00Z"));
  EXPECT_THAT(MustTick(s).failed, ElementsAre("flaky"));
  EXPECT_EQ(OpenIncidentFor("schedule_failed:flaky")->count, 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 1);

  // Once the action works it fires for the time that failed, and the incident resolves.
  fail_ = false;
  clock_.SetMillis(Ms("2024-01-15T07:02:00Z"));
  r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("flaky"));
  EXPECT_TRUE(r.failed.empty());
  EXPECT_THAT(FireTimes("flaky"), ElementsAre(Ms("2024-01-15T07:00:00Z")));
  EXPECT_FALSE(OpenIncidentFor("schedule_failed:flaky").has_value());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents WHERE status = 'resolved'"), 1);
}

TEST_F(SchedulerTest, CheckMissedOpensThenResolves) {
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("morning", "0 8 * * *", "America/New_York")).ok());
  // The detector runs elsewhere (doctor, status) and registers nothing.
  FakeClock doctor_clock(clock_.NowMillis());
  Scheduler doctor(*store_, doctor_clock);
  constexpr int64_t kGrace = 10 * 60'000;

  // 08:00 EST is 13:00Z. Within the grace period nothing is raised.
  doctor_clock.SetMillis(Ms("2024-01-15T13:09:00Z"));
  ASSERT_TRUE(doctor.CheckMissed(kGrace).ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);

  doctor_clock.SetMillis(Ms("2024-01-15T13:30:00Z"));
  ASSERT_TRUE(doctor.CheckMissed(kGrace).ok());
  std::optional<Incident> inc = OpenIncidentFor("schedule_missed:morning");
  ASSERT_TRUE(inc.has_value());
  EXPECT_EQ(inc->severity, "critical");
  EXPECT_THAT(inc->summary, HasSubstr("did not fire at 2024-01-15T13:00:00Z"));
  ASSERT_TRUE(doctor.CheckMissed(kGrace).ok());
  EXPECT_EQ(OpenIncidentFor("schedule_missed:morning")->count, 2);

  // The scheduler comes back and fires; the next check resolves the incident.
  clock_.SetMillis(Ms("2024-01-15T13:31:00Z"));
  EXPECT_THAT(MustTick(s).fired, ElementsAre("morning"));
  doctor_clock.SetMillis(Ms("2024-01-15T13:32:00Z"));
  ASSERT_TRUE(doctor.CheckMissed(kGrace).ok());
  EXPECT_FALSE(OpenIncidentFor("schedule_missed:morning").has_value());
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM incidents WHERE incident_key = 'schedule_missed:morning' "
                  "AND status = 'resolved' AND resolved_at IS NOT NULL"),
            1);
}

TEST_F(SchedulerTest, DisabledScheduleDoesNotFireNorCatchUpWhenReenabled) {
  Scheduler s(*store_, clock_);
  ASSERT_TRUE(s.Register(Recording("ingest", "0 7 * * *")).ok());
  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) {
                    return t.Exec("UPDATE schedules SET enabled = 0 WHERE name = 'ingest'").status();
                  })
                  .ok());
  clock_.SetMillis(Ms("2024-01-17T08:00:00Z"));
  EXPECT_TRUE(MustTick(s).fired.empty());
  EXPECT_EQ(LastFire("ingest"), Ms("2024-01-17T07:00:00Z"));  // passed over, not pending
  ASSERT_TRUE(s.CheckMissed(0).ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM incidents"), 0);

  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) {
                    return t.Exec("UPDATE schedules SET enabled = 1 WHERE name = 'ingest'").status();
                  })
                  .ok());
  EXPECT_TRUE(MustTick(s).fired.empty());
  clock_.SetMillis(Ms("2024-01-18T07:00:00Z"));
  Scheduler::TickResult r = MustTick(s);
  EXPECT_THAT(r.fired, ElementsAre("ingest"));
  EXPECT_EQ(r.skipped_fires, 0);
  EXPECT_EQ(calls_, 1);
}

TEST_F(SchedulerTest, IncidentsAreOnePerOpenKey) {
  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) -> Status {
                    RETURN_IF_ERROR(OpenIncident(t, "k", "critical", "first", "{}", 1000));
                    RETURN_IF_ERROR(OpenIncident(t, "k", "critical", "second", "{\"n\":2}", 2000));
                    RETURN_IF_ERROR(OpenIncident(t, "other", "info", "x", "", 1500));
                    return OkStatus();
                  })
                  .ok());
  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(std::vector<Incident> open, ListIncidents(t, /*open_only=*/true));
                    EXPECT_EQ(open.size(), 2u);
                    if (open.size() != 2u) return OkStatus();
                    EXPECT_EQ(open[0].key, "k");  // newest last_seen first
                    EXPECT_EQ(open[0].count, 2);
                    EXPECT_EQ(open[0].summary, "second");
                    EXPECT_EQ(open[0].details, "{\"n\":2}");
                    EXPECT_EQ(open[0].opened_at, 1000);
                    EXPECT_EQ(open[0].last_seen_at, 2000);

                    RETURN_IF_ERROR(ResolveIncident(t, "k", 3000));
                    RETURN_IF_ERROR(ResolveIncident(t, "k", 3500));                       // already resolved: no-op
                    RETURN_IF_ERROR(ResolveIncident(t, "missing", 3500));                 // never opened: no-op
                    RETURN_IF_ERROR(OpenIncident(t, "k", "warning", "again", "", 4000));  // a new episode
                    ASSIGN_OR_RETURN(std::vector<Incident> all, ListIncidents(t, /*open_only=*/false));
                    EXPECT_EQ(all.size(), 3u);
                    ASSIGN_OR_RETURN(std::optional<Incident> k, GetOpenIncident(t, "k"));
                    EXPECT_TRUE(k.has_value() && k->count == 1 && k->summary == "again");
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM incidents WHERE incident_key = 'k' AND status = 'resolved' "
                  "AND resolved_at = 3000"),
            1);

  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) -> Status {
                    Status bad = OpenIncident(t, "k", "urgent", "x", "", 1);
                    EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
                    EXPECT_THAT(bad.message(), HasSubstr("info, warning, critical"));
                    EXPECT_EQ(OpenIncident(t, "", "info", "x", "", 1).code(), StatusCode::kInvalidArgument);
                    return OkStatus();
                  })
                  .ok());
}

}  // namespace
}  // namespace nbaprops::engine
