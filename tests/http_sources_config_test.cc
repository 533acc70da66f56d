// Configuration of the HTTP sources, and a secrets check: a full scrape by the real binary (with
// API keys and a webhook configured, at debug level, with failures on the way), after which every
// byte of its output and of its database is searched for the secrets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "base/config.h"
#include "tests/http_replay_server.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReplayServer;
using testing::ReplaySwitches;
using testing::TempDir;

constexpr const char* kBdlKey = testing::kTestBdlKey;
constexpr const char* kOddsKey = testing::kTestOddsKey;

// ---------------------------------------------------------------------------------------------
// Configuration and `nbaprops sources`

TEST(HttpSourcesConfigTest, ReadsSourcesWithKeysFromEnvOrA0600File) {
  TempDir dir;
  std::string key_file = dir.Write("odds.key", "file-key-123\n");
  ::chmod(key_file.c_str(), 0600);
  ::setenv("NBAPROPS_TEST_BDL_KEY", "env-key-456", 1);
  std::string cfg = dir.Write("c.toml",
                              "[sources.balldontlie]\nmode = \"http\"\nbase_url = \"http://127.0.0.1:1/\"\n"
                              "api_key_env = \"NBAPROPS_TEST_BDL_KEY\"\nrequests_per_minute = 5\n"
                              "[sources.odds_api]\nmode = \"http\"\napi_key_file = \"" +
                                  key_file +
                                  "\"\n"
                                  "quota_reserve = 25\n[sources.espn]\nmode = \"off\"\n");
  auto c = LoadConfig(cfg);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->sources.balldontlie.api_key, "env-key-456");
  EXPECT_EQ(c->sources.balldontlie.base_url, "http://127.0.0.1:1");
  EXPECT_EQ(c->sources.balldontlie.requests_per_minute, 5);
  EXPECT_EQ(c->sources.odds_api.api_key, "file-key-123");
  EXPECT_EQ(c->sources.odds_api.quota_reserve, 25);
  EXPECT_EQ(c->sources.espn.mode, "off");

  ::chmod(key_file.c_str(), 0644);
  auto bad = LoadConfig(cfg);
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("chmod 600"), Not(HasSubstr("file-key-123"))));
  std::string typo = dir.Write("t.toml", "[sources.espn]\nbase_ur1 = \"x\"\n");
  EXPECT_THAT(LoadConfig(typo).status().message(), HasSubstr("unknown key 'sources.espn.base_ur1'"));
  std::string nokey = dir.Write("n.toml", "[sources.odds_api]\nmode = \"http\"\n");
  ::unsetenv("NBAPROPS_ODDS_API_KEY");
  EXPECT_THAT(LoadConfig(nokey).status().message(), HasSubstr("NBAPROPS_ODDS_API_KEY"));
  ::unsetenv("NBAPROPS_TEST_BDL_KEY");
}

// ---------------------------------------------------------------------------------------------
// Secrets: a full scrape by the real binary, with a configured API key and webhook, at debug
// level, with failures on the way; then every byte of its output and of the database is searched.

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string RunCommand(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = ::pclose(p);
  return out;
}

TEST(HttpSourcesSecretsTest, NoSecretInAnyLogLineOrInTheDatabase) {
  TempDir dir;
  ReplayServer server(testing::HttpFixtureDir());
  ASSERT_TRUE(server.Start());
  const std::string hook_secret = "hook-token-5ee1d0d0-do-not-log";
  const std::string hmac_secret = "hmac-secret-77aa-do-not-log";
  ReplaySwitches sw;
  sw.bdl_key = kBdlKey;
  sw.odds_key = kOddsKey;
  sw.fault_path = "/v1/stats";
  sw.fail_500 = 1;  // an error path on the way
  server.Set(sw);
  std::string key_file = dir.Write("odds.key", std::string(kOddsKey) + "\n");
  ::chmod(key_file.c_str(), 0600);
  const std::string base = server.base_url();
  std::string cfg =
      dir.Write("c.toml",
                "[log]\nlevel = \"debug\"\n"
                "[sources.balldontlie]\nmode = \"http\"\nbase_url = \"" +
                    base +
                    "\"\napi_key_env = \"TEST_BDL_KEY\"\n"
                    "requests_per_minute = 0\nbackoff_ms = 10\n"
                    "[sources.odds_api]\nmode = \"http\"\nbase_url = \"" +
                    base + "\"\napi_key_file = \"" + key_file +
                    "\"\n"
                    "requests_per_minute = 0\n"
                    "[sources.espn]\nmode = \"http\"\nbase_url = \"" +
                    base +
                    "\"\nrequests_per_minute = 0\n"
                    "[[alerts.channels]]\nname = \"ops\"\nkind = \"webhook\"\nurl_env = \"TEST_HOOK_URL\"\n"
                    "secret_env = \"TEST_HOOK_SECRET\"\n");
  const std::string db = dir.File("s.db");
  const std::string env = "TEST_BDL_KEY=" + std::string(kBdlKey) + " TEST_HOOK_URL=" + base + "/hook/" + hook_secret +
                          " TEST_HOOK_SECRET=" + hmac_secret + " ";
  const std::string bin = std::string(NBAPROPS_BINARY) + " --config " + cfg + " --db " + db;
  std::string out;
  int rc = 0;
  out += RunCommand(env + bin + " init", &rc);
  ASSERT_EQ(rc, 0) << out;
  out += RunCommand(env + bin + " scrape --date 2024-03-01", &rc);
  EXPECT_EQ(rc, 0) << out;
  // A failing scrape too: a wrong bdl key (401), a date without games.
  out += RunCommand("TEST_BDL_KEY=not-the-key TEST_HOOK_URL=" + base + "/hook/" + hook_secret + " TEST_HOOK_SECRET=" +
                        hmac_secret + " " + bin + " scrape --date 2024-03-02 --source balldontlie",
                    &rc);
  EXPECT_NE(rc, 0) << out;
  out += RunCommand(env + bin + " sources", &rc);
  const std::string sources_json = RunCommand(env + bin + " sources --json --quiet", &rc);
  out += sources_json;
  {
    // `nbaprops sources --json`: modes, quota left and the last expected-vs-fetched of each source.
    auto j = nlohmann::json::parse(sources_json, nullptr, false);
    ASSERT_TRUE(j.is_array()) << sources_json;
    std::map<std::string, nlohmann::json> by;
    for (const auto& s : j) by[s["source"].get<std::string>()] = s;
    EXPECT_EQ(by["inbox"]["mode"], "off");
    EXPECT_EQ(by["espn"]["mode"], "http");
    EXPECT_EQ(by["odds_api"]["quota_remaining"], 491);
    EXPECT_EQ(by["odds_api"]["last_scrape"], "2024-03-01: 9/9");
    EXPECT_EQ(by["balldontlie"]["last_http_status"], 401);  // the run with the wrong key was last
    EXPECT_EQ(by["balldontlie"]["key_configured"], true);
    EXPECT_EQ(by["balldontlie"]["breaker"], "closed");
  }
  out += RunCommand(env + bin + " alerts test", &rc);
  out += RunCommand(env + bin + " runs --json", &rc);
  out += RunCommand(env + bin + " status", &rc);
  EXPECT_THAT(out, HasSubstr("scrape_balldontlie 2024-03-01: 9 of 9 expected"));
  EXPECT_THAT(out, HasSubstr("API key was refused"));
  // The debug log names every request, with the key redacted.
  EXPECT_THAT(out, HasSubstr("scrape_odds_api: GET " + base + "/v4/sports/basketball_nba/events?apiKey=REDACTED"));
  EXPECT_THAT(out, HasSubstr("scrape_balldontlie: GET " + base + "/v1/stats?dates%5B%5D=2024-03-01"));
  // The server did receive the real keys, so the test would notice if they were not used.
  bool bdl_sent = false, odds_sent = false, hook_sent = false;
  for (const auto& r : server.requests()) {
    bdl_sent = bdl_sent || (r.headers.count("Authorization") && r.headers.at("Authorization") == kBdlKey);
    odds_sent = odds_sent || r.query.find(kOddsKey) != std::string::npos;
    hook_sent = hook_sent || r.path.find(hook_secret) != std::string::npos;
  }
  EXPECT_TRUE(bdl_sent && odds_sent && hook_sent);
  std::string bytes = Slurp(db) + Slurp(db + "-wal") + Slurp(db + "-journal");
  ASSERT_GT(bytes.size(), 10'000u);
  for (const std::string& secret : {std::string(kBdlKey), std::string(kOddsKey), hook_secret, hmac_secret}) {
    EXPECT_EQ(out.find(secret), std::string::npos) << "secret in the output: " << secret << "\n" << out;
    EXPECT_EQ(bytes.find(secret), std::string::npos) << "secret in the database: " << secret;
  }
}

}  // namespace
}  // namespace nbaprops
