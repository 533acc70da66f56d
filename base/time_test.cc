#include "base/time.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace nbaprops {
namespace {

TEST(TimeTest, IsoDatesRoundTrip) {
  auto d = ParseIsoDate("2024-01-31");
  ASSERT_TRUE(d);
  EXPECT_EQ(FormatIsoDate(*d), "2024-01-31");
  EXPECT_FALSE(ParseIsoDate("2024-02-30"));
  EXPECT_FALSE(ParseIsoDate("APR 14, 2024"));
  EXPECT_FALSE(ParseIsoDate("2024-1-31"));
}

TEST(TimeTest, GuessesHumanDatesForErrorMessages) {
  EXPECT_EQ(FormatIsoDate(*GuessDate("APR 14, 2024")), "2024-04-14");
  EXPECT_EQ(FormatIsoDate(*GuessDate("Apr 4 2024")), "2024-04-04");
  EXPECT_EQ(FormatIsoDate(*GuessDate("04/07/2024")), "2024-04-07");
  EXPECT_FALSE(GuessDate("yesterday"));
}

TEST(TimeTest, EasternTimeFollowsUsDst) {
  // 2024-01-31T00:30Z is 19:30 EST on Jan 30.
  EXPECT_EQ(FormatIsoDate(EasternDate(*ParseIsoTimestamp("2024-01-31T00:30:00Z"))), "2024-01-30");
  EXPECT_EQ(EasternOffsetSeconds(*ParseIsoTimestamp("2024-01-31T00:30:00Z")), -5 * 3600);
  // DST began 2024-03-10 at 07:00Z.
  EXPECT_EQ(EasternOffsetSeconds(*ParseIsoTimestamp("2024-03-10T06:59:59Z")), -5 * 3600);
  EXPECT_EQ(EasternOffsetSeconds(*ParseIsoTimestamp("2024-03-10T07:00:00Z")), -4 * 3600);
  // DST ended 2023-11-05 at 06:00Z.
  EXPECT_EQ(EasternOffsetSeconds(*ParseIsoTimestamp("2023-11-05T05:59:59Z")), -4 * 3600);
  EXPECT_EQ(EasternOffsetSeconds(*ParseIsoTimestamp("2023-11-05T06:00:00Z")), -5 * 3600);
  EXPECT_EQ(FormatIsoTimestamp(EasternLocalToUtc(*ParseIsoDate("2024-04-14"), 12, 0)), "2024-04-14T16:00:00Z");
  EXPECT_EQ(FormatIsoTimestamp(EasternLocalToUtc(*ParseIsoDate("2024-01-14"), 12, 0)), "2024-01-14T17:00:00Z");
}

// Instants from payloads: only those whose Eastern date is a date ParseIsoDate accepts.
TEST(TimeTest, EasternDateInRangeRefusesDatesOutsideTheCalendar) {
  EXPECT_EQ(FormatIsoDate(*EasternDateInRange(*ParseIsoTimestamp("2024-01-31T00:30:00Z"))), "2024-01-30");
  EXPECT_EQ(FormatIsoDate(*EasternDateInRange(*ParseIsoTimestamp("1900-01-01T05:00:00Z"))), "1900-01-01");
  EXPECT_FALSE(EasternDateInRange(*ParseIsoTimestamp("1900-01-01T04:59:59Z")));  // 1899-12-31 in New York
  EXPECT_EQ(FormatIsoDate(*EasternDateInRange(*ParseIsoTimestamp("2200-12-31T23:59:59Z"))), "2200-12-31");
  EXPECT_FALSE(EasternDateInRange(*ParseIsoTimestamp("2200-12-31T23:59:59-99:99")));  // days into 2201
  EXPECT_FALSE(EasternDateInRange(17093371600));                                      // the year 2511
  EXPECT_FALSE(EasternDateInRange(8999999999999999));
  EXPECT_FALSE(EasternDateInRange(INT64_MIN));
  EXPECT_FALSE(EasternDateInRange(INT64_MAX));
}

TEST(TimeTest, TimestampsWithOffsets) {
  EXPECT_EQ(*ParseIsoTimestamp("2024-01-31T00:30:00Z"), *ParseIsoTimestamp("2024-01-30T19:30:00-05:00"));
  EXPECT_EQ(FormatIsoTimestamp(*ParseIsoTimestamp("2024-01-31 00:30:00.123Z")), "2024-01-31T00:30:00Z");
  EXPECT_FALSE(ParseIsoTimestamp("2024-01-31"));
  EXPECT_FALSE(ParseIsoTimestamp("2024-01-31T25:00:00Z"));
}

}  // namespace
}  // namespace nbaprops
