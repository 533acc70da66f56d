// The real `nbaprops` binary: flags, exit codes, messages.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "base/file.h"
#include "engine/incidents.h"
#include "tests/json_schema.h"
#include "tests/process_util.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using nbaprops::testing::TempDir;

struct Result {
  int code;
  std::string out;
};

// One real game (OKC vs DEN, 2024-01-31) with a box-score row per team.
constexpr char kOneGameSchedule[] =
    "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points\n"
    "0022300653,2024-01-31,2024-02-01T01:00:00Z,OKC,DEN,final,8,18\n";
constexpr char kOneGameBox[] =
    "game_id,game_date,team,player_id,player_name,minutes,points\n"
    "0022300653,2024-01-31,DEN,1627750,Jamal Murray,36,18\n"
    "0022300653,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8\n";

Result RunCli(const std::string& args) {
  std::string cmd = std::string(NBAPROPS_BINARY) + " " + args + " 2>&1";
  Result r{-1, ""};
  FILE* p = ::popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(CliTest, VersionAndUsage) {
  EXPECT_EQ(RunCli("version").code, 0);
  EXPECT_EQ(RunCli("").code, 2);
  EXPECT_EQ(RunCli("no-such-command").code, 2);
}

TEST(CliTest, MissingDatabaseSaysWhatToDo) {
  TempDir dir;
  Result r = RunCli("status --db " + dir.File("nope.db"));
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find("nbaprops init"), std::string::npos) << r.out;
}

TEST(CliTest, GlobalFlagsBeforeOrAfterTheSubcommand) {
  TempDir dir;
  EXPECT_EQ(RunCli("--db " + dir.File("a.db") + " init").code, 0);
  EXPECT_EQ(RunCli("init --db " + dir.File("b.db")).code, 0);
  Result r = RunCli("--db " + dir.File("a.db") + " runs --json");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "[]\n");
}

TEST(CliTest, BadDatesAreExplained) {
  TempDir dir;
  ASSERT_EQ(RunCli("init --db " + dir.File("a.db")).code, 0);
  Result r = RunCli("run --date 'APR 14, 2024' --db " + dir.File("a.db"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("did you mean 2024-04-14"), std::string::npos) << r.out;
}

TEST(CliTest, UnknownConfigKeysAreRejected) {
  TempDir dir;
  std::string cfg = dir.Write("c.toml", "[database]\npath = \"x.db\"\npaht = \"typo\"\n");
  Result r = RunCli("init --config " + cfg);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.out.find("unknown key 'database.paht'"), std::string::npos) << r.out;
}

TEST(CliTest, ImportRunStatusOnASmallDirectory) {
  TempDir dir;
  dir.Write("in/schedule.csv", kOneGameSchedule);
  dir.Write("in/box.csv", std::string(kOneGameBox) +
                              "0022300653,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8\n");  // a duplicate row
  std::string db = " --db " + dir.File("a.db");
  ASSERT_EQ(RunCli("init" + db).code, 0);
  Result imp = RunCli("import " + dir.File("in") + db);
  EXPECT_EQ(imp.code, 0) << imp.out;
  EXPECT_NE(imp.out.find("records read 4 = stored 3 + rejected 1"), std::string::npos) << imp.out;
  Result run = RunCli("run --date 2024-01-31" + db);
  EXPECT_EQ(run.code, 0) << run.out;
  Result st = RunCli("status --date 2024-01-31" + db);
  EXPECT_EQ(st.code, 0) << st.out;
  EXPECT_NE(st.out.find("complete"), std::string::npos);
  Result js = RunCli("status --json" + db);
  EXPECT_NE(js.out.find("\"player_games\": 2"), std::string::npos) << js.out;

  // Expected vs actual: every output of the date is there.
  Result dj = RunCli("status --date 2024-01-31 --json" + db);
  ASSERT_EQ(dj.code, 0) << dj.out;
  auto date = nlohmann::json::parse(dj.out, nullptr, false);
  ASSERT_FALSE(date.is_discarded()) << dj.out;
  EXPECT_TRUE(date["complete"].get<bool>()) << dj.out;
  EXPECT_EQ(date["overdue"], 0);
  EXPECT_GT(date["expected"].size(), 10u);
  Result healthy = RunCli("heal --dry-run --date 2024-01-31" + db);
  EXPECT_NE(healthy.out.find("checked, 0 unmet; 0 heal run(s)"), std::string::npos) << healthy.out;
  // A bad write loses the date's summaries: status says so and exits 1; heal re-runs the step.
  {
    auto store = testing::OpenTestStore(dir.File("a.db"));
    ASSERT_TRUE(store
                    ->WithWrite([](store::Transaction& t) {
                      return t.Exec("DELETE FROM analytics_player_game_summary").status();
                    })
                    .ok());
  }
  Result broken = RunCli("status --date 2024-01-31" + db);
  EXPECT_EQ(broken.code, 1) << broken.out;
  EXPECT_NE(broken.out.find("MISSING"), std::string::npos) << broken.out;
  EXPECT_NE(broken.out.find("nbaprops heal --date 2024-01-31"), std::string::npos) << broken.out;
  Result dry = RunCli("heal --dry-run --date 2024-01-31" + db);
  EXPECT_EQ(dry.code, 0) << dry.out;
  EXPECT_NE(dry.out.find("would enqueue"), std::string::npos) << dry.out;
  Result heal = RunCli("heal --date 2024-01-31 --json" + db);
  ASSERT_EQ(heal.code, 0) << heal.out;
  auto hj = nlohmann::json::parse(heal.out, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << heal.out;
  EXPECT_EQ(hj["enqueued"], 1);
  EXPECT_EQ(hj["unmet"][0]["processor"], "player_game_summary");
  EXPECT_EQ(hj["runs_failed"], 0);
  EXPECT_EQ(RunCli("status --date 2024-01-31" + db).code, 0);
  auto store = testing::OpenTestStore(dir.File("a.db"));
  EXPECT_EQ(testing::Count(*store,
                           "SELECT COUNT(*) FROM processor_runs WHERE trigger = 'self_heal' AND status = "
                           "'succeeded'"),
            1);
  // No external source has run, so there are no breakers yet.
  Result br = RunCli("breakers --json" + db);
  EXPECT_EQ(br.code, 0) << br.out;
  EXPECT_EQ(nlohmann::json::parse(br.out, nullptr, false), nlohmann::json::array()) << br.out;
}

TEST(CliTest, DeadLettersCanBeListedShownAndDiscarded) {
  TempDir dir;
  std::string db = " --db " + dir.File("a.db");
  ASSERT_EQ(RunCli("init" + db).code, 0);
  dir.Write("stats.json", "{\"data\":[{\"id\":1,\"min\":\"36:47\",\"pts\":2");
  Result imp = RunCli("import --kind balldontlie_stats " + dir.File("stats.json") + db);
  EXPECT_EQ(imp.code, 1) << imp.out;
  Result list = RunCli("dlq list" + db);
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find("parse_payload"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("bad_input"), std::string::npos) << list.out;
  Result show = RunCli("dlq show 1" + db);
  EXPECT_EQ(show.code, 0);
  EXPECT_NE(show.out.find("fix or replace the input"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("stats.json"), std::string::npos) << show.out;
  EXPECT_EQ(RunCli("dlq discard 1" + db).code, 0);
  Result again = RunCli("dlq discard 1" + db);
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.out.find("already discarded"), std::string::npos) << again.out;
  EXPECT_EQ(RunCli("dlq retry 99" + db).code, 2);
  Result status = RunCli("status" + db);
  EXPECT_NE(status.out.find("dead letters        0 open"), std::string::npos) << status.out;
}

TEST(CliTest, ReplayRunsTheSchedulerOnSimulatedDays) {
  TempDir dir;
  std::string db = " --db " + dir.File("a.db");
  dir.Write("in/schedule.csv",
            "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points\n"
            "g1,2024-01-29,2024-01-30T00:30:00Z,OKC,DEN,final,8,18\n"
            "g2,2024-01-30,2024-01-31T00:30:00Z,ATL,DEN,final,8,18\n"
            "g3,2024-01-31,2024-02-01T00:30:00Z,OKC,ATL,final,8,8\n");
  dir.Write("in/box.csv",
            "game_id,game_date,team,player_id,player_name,minutes,points\n"
            "g1,2024-01-29,DEN,1627750,Jamal Murray,36,18\ng1,2024-01-29,OKC,1628983,Shai Gilgeous-Alexander,36,8\n"
            "g2,2024-01-30,DEN,1627750,Jamal Murray,36,18\ng2,2024-01-30,ATL,1629027,Trae Young,36,8\n"
            "g3,2024-01-31,ATL,1629027,Trae Young,36,8\ng3,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8\n");
  ASSERT_EQ(RunCli("init" + db).code, 0);
  ASSERT_EQ(RunCli("import " + dir.File("in") + db).code, 0);
  ASSERT_EQ(RunCli("backfill --from 2024-01-29 --to 2024-01-29" + db).code, 0);
  // Two simulated days in about two real seconds.
  Result r = RunCli("serve --replay-from 2024-01-30 --replay-days 2 --speed 86400 --workers 1" + db);
  EXPECT_EQ(r.code, 0) << r.out;
  auto store = testing::OpenTestStore(dir.File("a.db"));
  // predictions_today (08:00 ET) and results_yesterday (04:00 ET) fired on the simulated days and
  // their runs (and the runs they triggered) completed.
  EXPECT_GE(testing::Count(*store,
                           "SELECT COUNT(DISTINCT data_date) FROM processor_runs WHERE trigger = 'schedule' AND "
                           "status = 'succeeded' AND data_date IN ('2024-01-30', '2024-01-31')"),
            2);
  EXPECT_GT(testing::Count(*store,
                           "SELECT COUNT(*) FROM processor_runs WHERE trigger = 'upstream' AND status = "
                           "'succeeded' AND data_date = '2024-01-30'"),
            0);
  EXPECT_EQ(testing::Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status IN ('queued', 'running')"), 0);
  EXPECT_EQ(testing::Count(*store, "SELECT COUNT(*) FROM analytics_player_game_summary WHERE game_date = '2024-01-31'"),
            2);
  // daily_health (07:00 ET) summarized each previous day and kept the summary: at 07:00 on 01-30,
  // 01-31 and 02-01 (the replay ends at noon of its last day + 1, and its last tick fires what was
  // due by then, however late the tick came).
  EXPECT_EQ(testing::Count(*store,
                           "SELECT COUNT(*) FROM processor_runs WHERE processor = 'daily_health_summary' AND "
                           "trigger = 'schedule' AND status = 'succeeded'"),
            3);
  std::string body;
  ASSERT_TRUE(store
                  ->WithRead([&](store::Transaction& t) -> Status {
                    ASSIGN_OR_RETURN(auto b, t.QueryText("SELECT body FROM health_summaries WHERE summary_date = "
                                                         "'2024-01-29'"));
                    body = b.value_or("");
                    return OkStatus();
                  })
                  .ok());
  auto summary = nlohmann::json::parse(body, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << body;
  EXPECT_EQ(summary["games"]["final"], 1);
  // ...and announced it for the alert channels, once per date.
  EXPECT_EQ(testing::Count(*store,
                           "SELECT COUNT(*) FROM alert_announcements WHERE announcement_key LIKE "
                           "'daily_health:2024-01-%' AND body LIKE '%daily health for%'"),
            3);
}

TEST(CliTest, SigtermDrainsTheRunInHandAndExitsZero) {
  TempDir dir;
  std::string dbf = dir.File("a.db");
  std::string db = " --db " + dbf;
  dir.Write("in/schedule.csv", kOneGameSchedule);
  dir.Write("in/box.csv", kOneGameBox);
  ASSERT_EQ(RunCli("init" + db).code, 0);
  ASSERT_EQ(RunCli("import " + dir.File("in") + db).code, 0);
  ASSERT_EQ(RunCli("backfill --enqueue --from 2024-01-31 --to 2024-01-31" + db).code, 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("NBAPROPS_TEST_BLOCK", "player_game_summary:1500", 1);
    int fd = ::open("/dev/null", O_WRONLY);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execl(NBAPROPS_BINARY, NBAPROPS_BINARY, "serve", "--workers", "1", "--db", dbf.c_str(), nullptr);
    ::_exit(127);
  }
  auto store = testing::OpenTestStore(dbf);
  int64_t running = 0;
  for (int i = 0; i < 100 && running == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running = testing::Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'");
  }
  ASSERT_EQ(running, 1);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The run in hand was finished, not abandoned; nothing was claimed after the signal.
  EXPECT_EQ(testing::Count(*store, "SELECT COUNT(*) FROM processor_runs WHERE status = 'running'"), 0);
  EXPECT_EQ(testing::Count(*store,
                           "SELECT COUNT(*) FROM processor_runs WHERE processor = 'player_game_summary' AND "
                           "status = 'succeeded'"),
            1);
}

// Right after an import, train / predict / evaluate run the phases they need themselves.
TEST(CliTest, TrainPredictEvaluateRightAfterImport) {
  TempDir dir;
  const std::string db = " --db " + dir.File("s.db");
  ASSERT_EQ(RunCli("init" + db).code, 0);
  ASSERT_EQ(RunCli("import " + std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24 -q" + db).code, 0);

  const std::string model = dir.File("m.json");
  Result train = RunCli("train --until 2024-01-24 --out " + model + " -q" + db);
  ASSERT_EQ(train.code, 0) << train.out;
  EXPECT_NE(train.out.find("xgb-2024-01-24-"), std::string::npos) << train.out;

  const std::string cfg = dir.Write("c.toml", "[predictions]\nmodel_path = \"" + model + "\"\n");
  Result predict = RunCli("predict --date 2024-01-31 -q --config " + cfg + db);
  ASSERT_EQ(predict.code, 0) << predict.out;
  EXPECT_NE(predict.out.find("\"players_out\":"), std::string::npos) << predict.out;
  EXPECT_NE(predict.out.find("\"model\":\"xgb-2024-01-24-"), std::string::npos) << predict.out;
  Result grade = RunCli("grade --date 2024-01-31" + db);
  ASSERT_EQ(grade.code, 0) << grade.out;
  EXPECT_NE(grade.out.find("xgboost"), std::string::npos) << grade.out;
  // The health summary of the date agrees with the tables it summarizes.
  Result health = RunCli("status --summary --date 2024-01-31 --json" + db);
  ASSERT_EQ(health.code, 0) << health.out;
  auto hj = nlohmann::json::parse(health.out, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << health.out;
  {
    auto store = testing::OpenTestStore(dir.File("s.db"));
    EXPECT_EQ(hj["games"]["scheduled"].get<int64_t>(),
              testing::Count(*store, "SELECT COUNT(*) FROM raw_schedule WHERE game_date = '2024-01-31'"));
    bool saw_xgboost = false;
    for (const auto& sys : hj["systems"]) {
      if (sys["system"] != "xgboost") continue;
      saw_xgboost = true;
      EXPECT_EQ(sys["predictions"].get<int64_t>(),
                testing::Count(*store,
                               "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = '2024-01-31' "
                               "AND system_id = 'xgboost' AND superseded_by IS NULL"));
      EXPECT_EQ(sys["graded"]["wins"].get<int64_t>(),
                testing::Count(*store,
                               "SELECT COUNT(*) FROM prediction_accuracy WHERE game_date = '2024-01-31' AND "
                               "system_id = 'xgboost' AND outcome = 'correct'"));
      EXPECT_EQ(sys["last_14_graded_days"]["days"], 1);
    }
    EXPECT_TRUE(saw_xgboost) << health.out;
  }
  EXPECT_EQ(RunCli("status --summary --date 2024-02-30" + db).code, 2);

  Result report = RunCli("report --from 2024-01-31 --to 2024-01-31 --by sportsbook --json" + db);
  ASSERT_EQ(report.code, 0) << report.out;
  auto rj = nlohmann::json::parse(report.out, nullptr, false);
  ASSERT_FALSE(rj.is_discarded()) << report.out;
  for (const char* key : {"n", "wins", "losses", "pushes", "voids", "hit_rate", "hit_rate_ci95", "roi", "mae_model",
                          "mae_line", "clv_avg", "by"}) {
    EXPECT_TRUE(rj.contains(key)) << key;
  }
  EXPECT_GT(rj["n"].get<int>(), 100);
  EXPECT_EQ(rj["by"]["key"], "sportsbook");
  EXPECT_TRUE(rj["by"]["groups"].contains("draftkings")) << report.out;
  EXPECT_EQ(RunCli("report --from 2024-01-31 --to 2024-01-31 --by color" + db).code, 2);

  Result exported = RunCli("export --date 2024-01-31 --out " + dir.File("exports") + db);
  EXPECT_EQ(exported.code, 0) << exported.out;
  EXPECT_TRUE(std::filesystem::exists(dir.File("exports/best-bets/2024-01-31.json")));
  // With a model every system is exported (the market one too), and each prediction carries the
  // player's minutes projection, as stored with it. (No best bets here: a model trained before the
  // bundled lines begin has no market blend, so the headline market system passes on every player.)
  for (const std::string& e : testing::ExportSchemaErrors(dir.File("exports"))) ADD_FAILURE() << e;
  {
    auto store = testing::OpenTestStore(dir.File("s.db"));
    EXPECT_EQ(testing::Count(*store, "SELECT COUNT(*) FROM player_prop_predictions WHERE game_date = '2024-01-31' "
                                     "AND superseded_by IS NULL AND (projected_minutes IS NULL OR "
                                     "projected_minutes < 0 OR projected_minutes > 48)"),
              0);
    auto doc = nlohmann::json::parse(ReadFile(dir.File("exports/predictions/2024-01-31.json")).value());
    std::set<std::string> systems;
    int with_minutes = 0;
    for (const auto& g : doc["games"]) {
      for (const auto& p : g["predictions"]) {
        systems.insert(p["system"].get<std::string>());
        with_minutes += p["projected_minutes"].is_number();
      }
    }
    EXPECT_EQ(systems, (std::set<std::string>{"ensemble", "market", "moving_average", "xgboost"}));
    EXPECT_GT(with_minutes, 100);
  }
  Result halted = RunCli("export --date 2024-02-10 --out " + dir.File("exports") + db);  // nothing run for it
  EXPECT_EQ(halted.code, 1) << halted.out;
  EXPECT_NE(halted.out.find("HALT predictions 2024-02-10: upcoming_team_game_context has not run"), std::string::npos)
      << halted.out;

  // A model that has seen the date is refused, with the way out.
  Result early = RunCli("predict --date 2024-01-20 -q --config " + cfg + db);
  EXPECT_EQ(early.code, 1);
  EXPECT_NE(early.out.find("trained on games up to 2024-01-24"), std::string::npos) << early.out;

  const std::string eval = " --from 2024-01-24 --to 2024-01-31 --json --out " + dir.File("eval") + db;
  Result first = RunCli("evaluate" + eval);
  ASSERT_EQ(first.code, 0) << first.out;
  auto j = nlohmann::json::parse(first.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << first.out;
  for (const char* key : {"n_graded", "hit_rate", "hit_rate_ci95", "mae_model", "mae_line", "mae_season_avg",
                          "mae_last10", "mae_ewma", "brier", "roi", "by_sportsbook", "by_system", "reliability"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_GT(j["n_graded"].get<int>(), 100);
  EXPECT_EQ(j["periods"].size(), 2u);  // weekly: 01-24 and 01-31
  EXPECT_TRUE(std::filesystem::exists(dir.File("eval/reliability.svg")));
  EXPECT_TRUE(std::filesystem::exists(dir.File("eval/cumulative.svg")));
  EXPECT_EQ(RunCli("evaluate" + eval).out, first.out);  // deterministic
}

// doctor: a fresh database is not healthy (no scheduler has run, no model, no alert channel),
// and each failing row says what to do; a channel that does not answer fails its dry request.
TEST(CliTest, DoctorExitsNonZeroAndSaysWhy) {
  TempDir dir;
  const std::string db = " --db " + dir.File("d.db");
  EXPECT_EQ(RunCli("doctor" + db).code, 1);  // no database at all
  ASSERT_EQ(RunCli("init" + db).code, 0);
  Result r = RunCli("doctor --json" + db);
  EXPECT_EQ(r.code, 1) << r.out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_FALSE(j["healthy"].get<bool>());
  std::map<std::string, std::string> status;
  for (const auto& c : j["checks"]) status[c["check"]] = c["status"];
  EXPECT_EQ(status["config"], "ok");
  EXPECT_EQ(status["store"], "ok");
  EXPECT_EQ(status["migrations"], "ok");
  EXPECT_EQ(status["schedules"], "FAIL");
  EXPECT_EQ(status["model"], "FAIL");
  EXPECT_EQ(status["alert channels"], "FAIL");
  EXPECT_EQ(status["critical incidents"], "ok");
  EXPECT_EQ(status["disk (database)"], "ok");

  // A log channel that can be written passes; a webhook on a closed port fails its dry request.
  const std::string cfg =
      dir.Write("c.toml", "[[alerts.channels]]\nname = \"file\"\nkind = \"log\"\npath = \"" + dir.File("alerts.jsonl") +
                              "\"\n\n[[alerts.channels]]\nname = \"hook\"\nkind = \"webhook\"\n"
                              "url_env = \"DOCTOR_TEST_URL\"\nsecret_env = \"DOCTOR_TEST_KEY\"\n");
  Result c = RunCli("doctor --config " + cfg + db);
  EXPECT_EQ(c.code, 1) << c.out;  // the URL variable is not set: the config row fails, naming it
  EXPECT_NE(c.out.find("config  FAIL"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("DOCTOR_TEST_URL"), std::string::npos) << c.out;
  ::setenv("DOCTOR_TEST_URL", "http://127.0.0.1:1/hook", 1);
  ::setenv("DOCTOR_TEST_KEY", "k", 1);
  c = RunCli("doctor --json --config " + cfg + db);
  ::unsetenv("DOCTOR_TEST_URL");
  ::unsetenv("DOCTOR_TEST_KEY");
  EXPECT_EQ(c.code, 1) << c.out;
  auto cj = nlohmann::json::parse(c.out, nullptr, false);
  ASSERT_FALSE(cj.is_discarded()) << c.out;
  std::map<std::string, std::pair<std::string, std::string>> by;
  for (const auto& x : cj["checks"]) by[x["check"]] = {x["status"], x["detail"]};
  EXPECT_EQ(by["channel file (log)"].first, "ok");
  EXPECT_EQ(by["channel hook (webhook)"].first, "FAIL");
  EXPECT_NE(by["channel hook (webhook)"].second.find("dry request failed"), std::string::npos);
  EXPECT_EQ(c.out.find("127.0.0.1:1/hook"), std::string::npos) << "the URL is a secret: " << c.out;
}

// Alerts from every process: two `worker` processes and no `serve` still deliver every incident,
// each exactly once (the outbox claim keeps a message to one sender).
TEST(CliTest, WorkerProcessesDeliverAlertsEachIncidentOnce) {
  TempDir dir;
  const std::string dbf = dir.File("a.db"), log = dir.File("alerts.jsonl");
  ASSERT_EQ(RunCli("init --db " + dbf).code, 0);
  const std::string cfg = dir.Write("c.toml",
                                    "[alerts]\ngroup_window_s = 0\n\n[[alerts.channels]]\nname = \"file\"\n"
                                    "kind = \"log\"\npath = \"" +
                                        log + "\"\n");
  const std::string args = "worker --workers 1 --config " + cfg + " --db " + dbf;
  const pid_t a = testing::Spawn("", args, dir.File("w1.log")), b = testing::Spawn("", args, dir.File("w2.log"));
  ASSERT_GT(a, 0);
  ASSERT_GT(b, 0);
  auto store = testing::OpenTestStore(dbf);
  constexpr int kIncidents = 12;
  for (int i = 0; i < kIncidents; ++i) {
    ASSERT_TRUE(store
                    ->WithWrite([&](store::Transaction& t) {
                      return engine::OpenIncident(t, "test_incident:" + std::to_string(i), "warning",
                                                  "incident " + std::to_string(i), "", 1'700'000'000'000 + i);
                    })
                    .ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  auto announced = [&](const std::string& text) {
    int n = 0;
    for (int i = 0; i < kIncidents; ++i)
      n += text.find("\"key\":\"test_incident:" + std::to_string(i) + "\"") != std::string::npos;
    return n;
  };
  for (int i = 0; i < 100 && announced(testing::FileText(log)) < kIncidents; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a second sender would have sent by now
  ::kill(a, SIGTERM);
  ::kill(b, SIGTERM);
  for (pid_t p : {a, b}) {
    for (int i = 0; i < 100 && testing::Alive(p); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string text = testing::FileText(log);
  EXPECT_EQ(announced(text), kIncidents) << text;
  for (int i = 0; i < kIncidents; ++i) {
    const std::string key = "\"key\":\"test_incident:" + std::to_string(i) + "\"";
    const size_t first = text.find(key);
    EXPECT_EQ(text.find(key, first + 1), std::string::npos) << key << " announced twice:\n" << text;
  }
  EXPECT_EQ(testing::Count(*store, "SELECT COUNT(*) FROM alert_outbox WHERE status <> 'sent' OR attempts <> 1"), 0);
  EXPECT_GE(testing::Count(*store, "SELECT COUNT(*) FROM alert_outbox"), 1);
}

}  // namespace
}  // namespace nbaprops
