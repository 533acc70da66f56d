// Config files: every mistake is an error naming the file, the line and the key, and no value of
// the wrong type is silently replaced by its default.
#include "base/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nbaprops {
namespace {

struct Bad {
  std::string toml;
  std::string expect;  // the message after "config 'c.toml', line N: "
  int line;
};

TEST(ConfigTest, EveryMistakeNamesTheFileAndTheLine) {
  const std::vector<Bad> cases = {
      {"[http]\nlisten = \"127.0.0.1:1\"\n[engine\n", "Error while parsing table header", 3},
      {"# ops\n[engine]\nworkerz = 2\n", "unknown key 'engine.workerz'", 3},
      {"[engine]\nlease_ms = 30000\nworkers = \"two\"\n", "engine.workers must be a whole number (got a string)", 3},
      {"[engine]\nworkers = 2.5\n", "engine.workers must be a whole number (got 2.500000)", 2},
      {"[engine]\nworkers = 99999999999\n", "engine.workers is out of range (got 99999999999)", 2},
      {"[http]\nlisten = 8080\n", "http.listen must be a string (got an integer)", 2},
      {"\n[predictions]\nwait_for_quality = \"yes\"\n", "predictions.wait_for_quality must be true or false", 3},
      {"[predictions]\nmin_edge = \"big\"\n", "predictions.min_edge must be a number (got a string)", 2},
      {"[predictions]\nsportsbooks = \"fanduel\"\n", "predictions.sportsbooks must be an array of strings", 2},
      {"engine = 3\n", "engine must be a table ([engine]), not an integer", 1},
      {"[predictions]\nmin_edge = 1\nmin_probability = 0.3\n", "min_probability must be in [0.5, 1)", 3},
      {"[engine]\nheartbeat_ms = 5000\nlease_ms = 6000\n", "at least twice engine.heartbeat_ms", 3},
      {"[log]\nlevel = \"loud\"\n", "log level 'loud' is not one of", 2},
      {"[sources.espn]\nmode = \"live\"\n", "sources.espn: mode 'live' is not one of file, http, off", 2},
      {"[[alerts.channels]]\nname = \"ops\"\nkind = \"pager\"\n", "kind 'pager' is not one of slack, webhook, log", 3},
      {"[[alerts.channels]]\nname = \"f\"\nkind = \"log\"\npath = \"/tmp/a\"\nburst = 0\n",
       "need a finite rate_per_s >= 0", 5},
  };
  for (const Bad& b : cases) {
    auto c = ParseConfig(b.toml, "c.toml");
    ASSERT_FALSE(c.ok()) << b.toml;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << b.toml;
    const std::string prefix = "config 'c.toml', line " + std::to_string(b.line) + ": ";
    EXPECT_EQ(c.status().message().rfind(prefix, 0), 0u) << b.toml << "\n" << c.status().message();
    EXPECT_NE(c.status().message().find(b.expect), std::string::npos) << b.toml << "\n" << c.status().message();
  }
}

TEST(ConfigTest, TypedValuesAreRead) {
  auto c = ParseConfig(
      "[engine]\nlease_ms = 4e4\nworkers = 3\n[predictions]\nmin_edge = 2\nwait_for_quality = false\n"
      "sportsbooks = [\"fanduel\"]\n[http]\nlisten = \"127.0.0.1:9\"\n",
      "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->lease_ms, 40000);
  EXPECT_EQ(c->workers, 3);
  EXPECT_EQ(c->min_edge, 2.0);
  EXPECT_FALSE(c->wait_for_quality);
  EXPECT_EQ(c->sportsbooks, std::vector<std::string>{"fanduel"});
  EXPECT_EQ(c->http_listen, "127.0.0.1:9");
}

}  // namespace
}  // namespace nbaprops
