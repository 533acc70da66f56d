// The [engine] section reaches the engine: retry, deferral and circuit-breaker settings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/pipeline.h"
#include "tests/test_util.h"

namespace nbaprops::pipeline {
namespace {

TEST(EngineConfigTest, EngineSectionMapsToEngineOptions) {
  testing::TempDir dir;
  auto c = LoadConfig(dir.Write("c.toml",
                                "[engine]\nmax_attempts = 7\ndefer_max_hours = 12\nbreaker_failures = 3\n"
                                "breaker_cooldown_s = 90\n"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  engine::EngineOptions o = EngineOptionsFrom(*c);
  EXPECT_EQ(o.retry.max_attempts, 7);
  EXPECT_EQ(o.retry.defer_max_ms, 12 * 3'600'000LL);
  EXPECT_EQ(o.breaker.consecutive_failures_to_open, 3);
  EXPECT_EQ(o.breaker.cooldown_ms, 90'000);
  auto bad = LoadConfig(dir.Write("bad.toml", "[engine]\nbreaker_failures = 0\n"));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), ::testing::HasSubstr("breaker_failures"));
}

}  // namespace
}  // namespace nbaprops::pipeline
