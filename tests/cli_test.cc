// The real `nbaprops` binary: flags, exit codes, messages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/test_util.h"

namespace nbaprops {
namespace {

using nbaprops::testing::TempDir;

struct Result {
  int code;
  std::string out;
};

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
  dir.Write("in/schedule.csv",
            "game_id,game_date,tipoff_utc,home_team,away_team,status,home_points,away_points\n"
            "0022300653,2024-01-31,2024-02-01T01:00:00Z,OKC,DEN,final,8,18\n");
  dir.Write("in/box.csv",
            "game_id,game_date,team,player_id,player_name,minutes,points\n"
            "0022300653,2024-01-31,DEN,1627750,Jamal Murray,36,18\n"
            "0022300653,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8\n"
            "0022300653,2024-01-31,OKC,1628983,Shai Gilgeous-Alexander,36,8\n");
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
}

}  // namespace
}  // namespace nbaprops
