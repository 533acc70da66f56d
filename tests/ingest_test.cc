// Phases 1-2 end to end on real SQLite files: idempotent imports, rejects kept with reasons,
// bad input that leaves everything else as it was, and the unresolved-name workflow.
#include "pipeline/ingest.h"

#include <gtest/gtest.h>

#include "engine/scheduler.h"
#include "pipeline/pipeline.h"
#include "pipeline/plan.h"
#include "tests/side_table_processor.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

constexpr char kPlayers[] =
    "player_id,player_name,alt_names,birth_date\n"
    "203999,Nikola Jokic,Nikola Jokić,1995-02-19\n"
    "1628983,Shai Gilgeous-Alexander,,1998-07-12\n"
    "1629018,Gary Trent Jr.,,1999-01-18\n";
constexpr char kSchedule[] =
    "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points,original_game_date,source\n"
    "0022300653,2024-01-31,2024-02-01T01:00:00Z,OKC,DEN,final,105,100,,test\n";
constexpr char kBox[] =
    "game_id,game_date,team,opponent,home_away,player_id,player_name,minutes,points,fgm,fga,fg3m,fg3a,ftm,fta,"
    "oreb,dreb,reb,ast,stl,blk,tov,pf,plus_minus,source\n"
    "0022300653,2024-01-31,OKC,DEN,home,1628983,Shai Gilgeous-Alexander,36,24,8,16,2,4,6,7,0,5,5,6,2,1,3,2,7,nba_api\n"
    "0022300653,2024-01-31,DEN,OKC,away,,Nikola Jokić,35,20,8,15,0,1,4,4,3,9,12,8,1,1,4,3,-7,nba_com\n";
constexpr char kProps[] =
    "captured_at_utc,game_date,player_name,team,opponent,home_away,sportsbook,line,over_price,under_price,snapshot,"
    "source\n"
    "2024-01-31T15:00:00Z,2024-01-31,Shai Gilgeous-Alexander,,DEN,home,draftkings,31.5,-115,-105,open,rotowire\n"
    "2024-01-31T15:00:00Z,2024-01-31,Shai Gilgeous-Alexander,,DEN,home,fanduel,,-115,-105,open,rotowire\n"
    "2024-01-31T15:00:00Z,2024-01-31,Shai Gilgeos Alexandr,,DEN,home,betmgm,31.5,-110,-110,open,rotowire\n";

class IngestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string skip;
    const std::string url = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip);
    if (url.empty()) GTEST_SKIP() << skip;
    store_ = OpenTestStore(url);
    Config config = nbaprops::testing::SmallFixtureConfig();
    config.export_dir = dir_.File("exports");
    auto r = MakeRunner(*store_, clock_, config);
    ASSERT_TRUE(r.ok());
    runner_ = std::move(r).value();
    dir_.Write("in/players.csv", kPlayers);
    dir_.Write("in/schedule.csv", kSchedule);
    dir_.Write("in/box.csv", kBox);
    dir_.Write("in/props.csv", kProps);
    dir_.Write("in/notes.txt", "not data\n");
  }
  std::vector<ImportResult> Import(const std::string& path) {
    Ingestor ing(*runner_);
    return ing.ImportPaths({path}, std::nullopt);
  }
  // A fingerprint of everything stored outside the ledger.
  std::string Snapshot() {
    std::string out;
    for (const char* t : {"raw_payloads", "raw_schedule", "raw_box_scores", "raw_player_props", "raw_injury_reports",
                          "rejected_records", "reference_players", "unresolved_player_names"}) {
      out += std::string(t) + "=" + std::to_string(Count(*store_, std::string("SELECT COUNT(*) FROM ") + t)) + " ";
    }
    return out;
  }

  TempDir dir_;
  FakeClock clock_{1'706'745'600'000};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<engine::Runner> runner_;
};

// Conformance: every case runs on SQLite and on PostgreSQL.
INSTANTIATE_TEST_SUITE_P(Backends, IngestTest, nbaprops::testing::BackendValues(), nbaprops::testing::BackendName);

TEST_P(IngestTest, ImportsADirectoryInDependencyOrderAndCountsEveryRecord) {
  auto results = Import(dir_.File("in"));
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].kind, ImportKind::kPlayers);  // seeds first
  int skipped = 0;
  for (const auto& r : results) {
    skipped += r.skipped;
    if (!r.skipped) {
      EXPECT_TRUE(r.status.ok()) << r.path << ": " << r.status.ToString();
      EXPECT_EQ(r.read, r.stored + r.rejected) << r.path;
    }
  }
  EXPECT_EQ(skipped, 1);  // notes.txt
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores WHERE player_id IS NULL"), 0);
  // Jokić from a source without ids resolves through the seed alias.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores WHERE player_id = '203999'"), 1);
  // Rejected: the line without a line. Unresolved: the misspelled name, kept in the backlog.
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM rejected_records WHERE reason LIKE 'odds with no line%'"), 1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'pending' AND "
                  "original_name = 'Shai Gilgeos Alexandr' AND occurrences = 1"),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM reference_players"), 3);  // the typo did not become a player
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE processor = 'parse_payload' AND "
                  "records_in = records_out + records_rejected"),
            4);
}

TEST_P(IngestTest, ImportingTheSameFilesTwiceStoresNothingNew) {
  Import(dir_.File("in"));
  std::string before = Snapshot();
  auto again = Import(dir_.File("in"));
  for (const auto& r : again) {
    if (!r.skipped) {
      EXPECT_TRUE(r.already_imported) << r.path;
    }
  }
  EXPECT_EQ(Snapshot(), before);
  // Re-parsing a date (phase 2) replaces the same rows: same counts, no duplicates.
  DateRunResult rerun = RunDate(*runner_, "2024-01-31", 2, "manual");
  EXPECT_TRUE(rerun.ok());
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(IngestTest, BadFilesAreRejectedClearlyAndLeaveEverythingElseAsItWas) {
  Import(dir_.File("in"));
  std::string before = Snapshot();
  Ingestor ing(*runner_);
  // A missing column: the whole file is refused, naming file and column.
  auto r = ing.ImportFile(dir_.Write("bad/missing.csv", "game_id,game_date,team,player_name,minutes\n1,2,3,4,5\n"),
                          std::nullopt);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("missing.csv"), std::string::npos);
  EXPECT_NE(r.status.message().find("points"), std::string::npos);
  EXPECT_EQ(Snapshot(), before);
  // Truncated JSON from an API: refused with its name; nothing stored beyond the raw payload.
  r = ing.ImportFile(dir_.Write("bad/stats.json", "{\"data\":[{\"id\":1,\"min\":\"36:47\",\"pts\":2"),
                     ImportKind::kBalldontlieStats);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("stats.json"), std::string::npos);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores"), 2);
  // A permanent error is dead-lettered at once, with the input and what to do.
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'dead' AND "
                  "error_category = 'bad_input'"),
            1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM dead_letters WHERE status = 'open' AND processor = 'parse_payload' "
                  "AND suggested_action LIKE 'fix or replace the input%'"),
            1);
}

TEST_P(IngestTest, RealMergeConflictSnapshotStoresTheGoodRowsAndKeepsTheRest) {
  if (!nbaprops::testing::HaveSharedData()) GTEST_SKIP() << "../shared/data not present";
  Import(dir_.File("in"));
  std::string path = nbaprops::testing::SharedData() +
                     "/DhirenShivdasani__NBA-player-prop-analysis/raw_history_samples/over_under_odds/"
                     "20240126T174858Z_2cc4293889.csv";
  int64_t box_before = Count(*store_, "SELECT COUNT(*) FROM raw_box_scores");
  Ingestor ing(*runner_);
  ImportResult r = ing.ImportFile(path, std::nullopt);
  ASSERT_EQ(r.kind, ImportKind::kRotowireProps);
  // This early snapshot has prices but no lines, so every record is rejected: the import fails
  // loudly (naming the file) and keeps each reject with its line and reason.
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("20240126T174858Z_2cc4293889.csv"), std::string::npos);
  EXPECT_EQ(r.read, r.stored + r.rejected);
  EXPECT_GT(r.rejected, 0);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM rejected_records WHERE location = "
                  "'" +
                      path + ":1' AND reason LIKE '%merge-conflict marker%'"),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores"), box_before);
  // Importing it again re-parses (the last parse failed) and changes nothing.
  std::string before = Snapshot();
  EXPECT_EQ(ing.ImportFile(path, std::nullopt).rejected, r.rejected);
  EXPECT_EQ(Snapshot(), before);
}

TEST_P(IngestTest, AFileWhoseEveryRecordIsBadFailsButKeepsItsRejects) {
  Import(dir_.File("in"));
  Ingestor ing(*runner_);
  auto r = ing.ImportFile(
      dir_.Write("bad/dates.csv", std::string("game_id,game_date,tipoff_utc,home_team,away_team,status\n") +
                                      "0022301190,\"APR 14, 2024\",,NYK,CHI,final\n" +
                                      "0022301191,2024-04-14,,NYK,\xFF\xFE,final\n"),
      std::nullopt);
  EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status.message().find("dates.csv:2"), std::string::npos) << r.status.message();
  EXPECT_NE(r.status.message().find("write it as 2024-04-14"), std::string::npos) << r.status.message();
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM rejected_records WHERE location LIKE '%dates.csv:3' AND "
                  "reason LIKE 'not valid UTF-8%'"),
            1);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_schedule"), 1);  // the good game is untouched
}

TEST_P(IngestTest, AliasingAnUnresolvedNameResolvesItsRowsAndRequeuesTheDate) {
  Import(dir_.File("in"));
  ASSERT_TRUE(RunDate(*runner_, "2024-01-31", 3, "manual").ok());
  auto res = AddManualAlias(*runner_, "Shai Gilgeos Alexandr", "1628983");
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->rows_resolved, 1);
  ASSERT_EQ(res->requeued_dates.size(), 1u);
  EXPECT_EQ(res->requeued_dates[0], "2024-01-31");
  // Phase 3 again for the date, and the downstream phases its triggers queue.
  int phase3 = 0;
  for (const auto& o : res->outcomes) {
    EXPECT_TRUE(o.status.ok()) << o.processor << ": " << o.status.ToString();
    phase3 += runner_->Find(o.processor)->phase() == 3;
  }
  EXPECT_EQ(phase3, 5);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_player_props WHERE player_id IS NULL"), 0);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM unresolved_player_names WHERE status = 'resolved'"), 1);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded' "
                  "AND processor = 'upcoming_player_game_context'"),
            2);
  EXPECT_EQ(Count(*store_,
                  "SELECT trigger = 'manual' FROM processor_runs WHERE processor = "
                  "'upcoming_player_game_context' ORDER BY run_id DESC LIMIT 1"),
            1);
  EXPECT_EQ(AddManualAlias(*runner_, "Someone", "999").status().code(), StatusCode::kNotFound);
}

// What POST /v1/registry/aliases does: queue the date's phase 3, wake the workers, run nothing.
TEST_P(IngestTest, AliasingWithoutRunningQueuesTheDateAndWakesTheWorkers) {
  Import(dir_.File("in"));
  ASSERT_TRUE(RunDate(*runner_, "2024-01-31", 3, "manual").ok());
  int woken = 0;
  runner_->SetWorkListener([&] { ++woken; });
  auto res = AddManualAlias(*runner_, "Shai Gilgeos Alexandr", "1628983", /*run_now=*/false);
  runner_->SetWorkListener(nullptr);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->rows_resolved, 1);
  EXPECT_TRUE(res->outcomes.empty());
  EXPECT_EQ(woken, 1);
  ASSERT_EQ(res->queued_runs.size(), 5u);  // the date's five phase-3 processors
  for (int64_t id : res->queued_runs) {
    EXPECT_EQ(Count(*store_,
                    "SELECT COUNT(*) FROM processor_runs WHERE status = 'queued' AND trigger = 'manual' AND "
                    "partition_key = '2024-01-31' AND phase = 3 AND run_id = " +
                        std::to_string(id)),
              1);
  }
  // A worker then does the work.
  auto ran = runner_->DrainQueue();
  ASSERT_TRUE(ran.ok());
  for (const auto& o : *ran) EXPECT_TRUE(o.status.ok()) << o.processor << ": " << o.status.ToString();
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE status = 'succeeded' "
                  "AND processor = 'upcoming_player_game_context'"),
            2);
}

TEST_P(IngestTest, TheScrapeScheduleImportsWhatIsNewInTheInbox) {
  Config config = nbaprops::testing::SmallFixtureConfig();
  config.inbox = dir_.File("inbox");
  dir_.Write("inbox/players.csv", kPlayers);
  auto runner = MakeRunner(*store_, clock_, config);
  ASSERT_TRUE(runner.ok());
  engine::Scheduler scheduler(*store_, clock_);
  ASSERT_TRUE(RegisterSchedules(scheduler, **runner).ok());
  auto fire_and_run = [&](int64_t hours) -> int64_t {
    clock_.AdvanceMillis(hours * 3600 * 1000);
    auto tick = scheduler.Tick();
    EXPECT_TRUE(tick.ok());
    EXPECT_TRUE((*runner)->DrainQueue().ok());
    return Count(*store_,
                 "SELECT records_out FROM processor_runs WHERE processor = 'import_inbox' AND "
                 "status = 'succeeded' ORDER BY run_id DESC LIMIT 1");
  };
  EXPECT_EQ(fire_and_run(7), 1);  // 07:00 UTC: the seed file
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM reference_players"), 3);
  dir_.Write("inbox/box.csv", kBox);
  EXPECT_EQ(fire_and_run(5), 1);  // 12:00 UTC: only the new file
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_box_scores"), 2);
  EXPECT_EQ(fire_and_run(4), 0);  // 16:00 UTC: nothing new, nothing stored twice
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM raw_payloads"), 2);
  EXPECT_EQ(Count(*store_,
                  "SELECT COUNT(*) FROM processor_runs WHERE processor = 'import_inbox' AND trigger = "
                  "'schedule'"),
            3);
}

// A processor unknown to the planner's own code: it declares what it must produce (a mark per date
// with games, once the box scores are in), and being registered is all it takes to be planned and
// healed.
class ToyMarker final : public nbaprops::testing::SideTableProcessor, public DeclaresExpectations {
 public:
  ToyMarker() : SideTableProcessor("toy_marker") {}
  When expected_when() const override { return When::kAfterGames; }
  Status Expect(store::Transaction& t, const PlanDay& d, std::vector<engine::Expectation>* out) const override {
    engine::Expectation e{name(), d.date, d.date, "a mark per date with games", 1, 0, false, d.post_due_ms, ""};
    ASSIGN_OR_RETURN(
        e.actual, CountOf(t, "SELECT COUNT(*) FROM executions WHERE processor = 'toy_marker' AND part = ?1", d.date));
    out->push_back(std::move(e));
    return OkStatus();
  }
};

TEST_P(IngestTest, ARegisteredProcessorsDeclaredExpectationIsPlannedAndHealed) {
  ASSERT_TRUE(store_
                  ->WithWrite([](store::Transaction& t) {
                    return t.Exec(nbaprops::testing::SideTableProcessor::kTableSql).status();
                  })
                  .ok());
  ASSERT_TRUE(runner_->Register(std::make_unique<ToyMarker>()).ok());
  Import(dir_.File("in"));
  clock_.AdvanceMillis(36 * 3'600'000);  // 2024-02-02T12:00Z: the 2024-01-31 games are long over
  PipelinePlanner planner(PlanOptionsOf(*runner_));
  engine::ReconcilerOptions ro;
  ro.max_heals_per_cycle = 100;
  engine::Reconciler reconciler(*runner_, planner, clock_, ro);
  auto decision = [&](const engine::ReconcileResult& r) -> std::string {
    for (const auto& h : r.unmet) {
      if (h.expectation.processor == "toy_marker") return h.decision;
    }
    return "met or not planned";
  };
  auto first = reconciler.RunOnce(false, "2024-01-31");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(decision(*first), "enqueued");
  ASSERT_TRUE(runner_->DrainQueue().ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM executions WHERE processor = 'toy_marker' AND part = '2024-01-31'"),
            1);
  auto second = reconciler.RunOnce(true, "2024-01-31");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(decision(*second), "met or not planned");
  bool planned = false;
  for (const auto& e : second->planned) planned = planned || (e.processor == "toy_marker" && e.met());
  EXPECT_TRUE(planned);
}

}  // namespace
}  // namespace nbaprops::pipeline
