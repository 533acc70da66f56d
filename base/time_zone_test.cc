#include "base/time_zone.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time.h"

namespace nbaprops {
namespace {

using ::testing::HasSubstr;

TEST(TimeZoneTest, FindsIanaNamesAndExplainsUnknownOnes) {
  ASSERT_TRUE(TimeZone::Find("America/New_York").ok());
  EXPECT_EQ(TimeZone::Find("America/New_York")->name(), "America/New_York");
  EXPECT_EQ(*TimeZone::Find("UTC"), TimeZone::Utc());
  StatusOr<TimeZone> bad = TimeZone::Find("America/Nowhere");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("\"America/Nowhere\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("IANA name"));
}

TEST(TimeZoneTest, SkippedAndRepeatedWallTimes) {
  TimeZone ny = *TimeZone::Find("America/New_York");
  // 2024-03-10 02:30 does not exist in New York; 2024-11-03 01:30 happens twice.
  EXPECT_FALSE(ny.LocalToUtcSeconds(*ParseIsoTimestamp("2024-03-10T02:30:00Z")).has_value());
  EXPECT_EQ(ny.LocalToUtcSeconds(*ParseIsoTimestamp("2024-11-03T01:30:00Z")),
            ParseIsoTimestamp("2024-11-03T05:30:00Z"));  // the first pass, still on daylight time
  EXPECT_EQ(ny.UtcToLocalSeconds(*ParseIsoTimestamp("2024-07-01T12:00:00Z")),
            *ParseIsoTimestamp("2024-07-01T08:00:00Z"));
}

// base/time.h computes Eastern dates with its own US rule (fast, no database); it must agree with
// the tz database on every hour of 2007-2037, the years the current rule has applied.
TEST(TimeZoneTest, OwnEasternRuleAgreesWithTheDatabase) {
  TimeZone ny = *TimeZone::Find("America/New_York");
  const int64_t from = *ParseIsoTimestamp("2007-01-01T00:00:00Z"), to = *ParseIsoTimestamp("2037-12-31T00:00:00Z");
  int mismatches = 0;
  for (int64_t t = from; t < to; t += 1800) {
    if (ny.UtcToLocalSeconds(t) - t != EasternOffsetSeconds(t) && ++mismatches < 5) {
      ADD_FAILURE() << "offsets differ at " << FormatIsoTimestamp(t);
    }
  }
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace nbaprops
