#include "engine/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time.h"

namespace nbaprops::engine {
namespace {

using ::testing::HasSubstr;

int64_t Ms(const char* iso) {
  std::optional<int64_t> s = ParseIsoTimestamp(iso);
  EXPECT_TRUE(s.has_value()) << iso;
  return s.value_or(0) * 1000;
}

TimeZone Zone(const char* name) {
  StatusOr<TimeZone> z = TimeZone::Find(name);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? *z : TimeZone::Utc();
}

std::string Iso(int64_t ms) { return FormatIsoTimestamp(ms / 1000); }

CronSpec Parse(const char* expr) {
  StatusOr<CronSpec> s = ParseCron(expr);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : CronSpec{};
}

// The successive fire times after `from`, as ISO strings (readable failures).
std::vector<std::string> Fires(const char* expr, const TimeZone& zone, const char* from, int n) {
  CronSpec spec = Parse(expr);
  std::vector<std::string> out;
  int64_t t = Ms(from);
  for (int i = 0; i < n; ++i) {
    t = NextFireAfter(spec, zone, t);
    out.push_back(Iso(t));
  }
  return out;
}

void ExpectParseError(const char* expr, const std::vector<std::string>& parts) {
  StatusOr<CronSpec> s = ParseCron(expr);
  ASSERT_FALSE(s.ok()) << expr << " should not parse";
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << expr;
  for (const std::string& p : parts) EXPECT_THAT(s.status().message(), HasSubstr(p)) << expr;
}

TEST(ParseCronTest, ErrorsNameTheFieldAndTheValue) {
  ExpectParseError("0 8 * *", {"expected 5 fields", "got 4"});
  ExpectParseError("0 8 * * * *", {"expected 5 fields", "got 6"});
  ExpectParseError("", {"got 0"});
  ExpectParseError("60 * * * *", {"minute field", "60 is out of range 0-59"});
  ExpectParseError("0 24 * * *", {"hour field", "24 is out of range 0-23"});
  ExpectParseError("0 0 0 * *", {"day-of-month field", "0 is out of range 1-31"});
  ExpectParseError("0 0 * 13 *", {"month field", "13 is out of range 1-12"});
  ExpectParseError("0 0 * * 8", {"day-of-week field", "8 is out of range 0-7"});
  ExpectParseError("0 8 * * FOO", {"day-of-week field \"FOO\"", "not a number", "SUN-SAT"});
  ExpectParseError("x 8 * * *", {"minute field \"x\"", "\"x\" is not a number"});
  ExpectParseError("0 -1 * * *", {"hour field"});
  ExpectParseError("0 22-2 * * *", {"hour field \"22-2\"", "runs backwards", "22-23,0-2"});
  ExpectParseError("*/0 * * * *", {"minute field", "step \"0\""});
  ExpectParseError("*/ * * * *", {"minute field", "step \"\""});
  ExpectParseError("1,,2 * * * *", {"minute field \"1,,2\"", "empty list item"});
  ExpectParseError("0 0 30 2 *", {"never fire", "30th of February"});
  ExpectParseError("0 0 31 4,6,9,11 *", {"never fire"});
}

TEST(ParseCronTest, AcceptsListsRangesStepsAndNames) {
  CronSpec s = Parse("*/15 7,12,16,22 1,15 1-3 1-5");
  EXPECT_EQ(s.minutes, std::bitset<60>().set(0).set(15).set(30).set(45));
  EXPECT_EQ(s.hours, std::bitset<24>().set(7).set(12).set(16).set(22));
  EXPECT_EQ(s.days_of_month, std::bitset<32>().set(1).set(15));
  EXPECT_EQ(s.months, std::bitset<13>().set(1).set(2).set(3));
  EXPECT_EQ(s.days_of_week, std::bitset<7>().set(1).set(2).set(3).set(4).set(5));
  EXPECT_TRUE(s.day_of_month_restricted);
  EXPECT_TRUE(s.day_of_week_restricted);

  EXPECT_EQ(Parse("10-50/10 * * * *").minutes, std::bitset<60>().set(10).set(20).set(30).set(40).set(50));
  EXPECT_EQ(Parse("5/20 * * * *").minutes, std::bitset<60>().set(5).set(25).set(45));
  EXPECT_EQ(Parse("0 0 * jan,Dec *").months, std::bitset<13>().set(1).set(12));
  EXPECT_EQ(Parse("0 0 * * MON-FRI").days_of_week, Parse("0 0 * * 1-5").days_of_week);
  // 0 and 7 are both Sunday.
  EXPECT_EQ(Parse("0 0 * * 7").days_of_week, std::bitset<7>().set(0));
  EXPECT_EQ(Parse("0 0 * * 5-7").days_of_week, std::bitset<7>().set(5).set(6).set(0));
  EXPECT_EQ(Parse("0 0 * * SUN").days_of_week, std::bitset<7>().set(0));
  // Extra spaces and tabs between fields are fine.
  EXPECT_EQ(Parse("  0\t8  * * *  ").hours, std::bitset<24>().set(8));

  // A field starting with '*' does not restrict the day (Vixie cron).
  EXPECT_FALSE(Parse("0 0 */2 * 1").day_of_month_restricted);
  EXPECT_TRUE(Parse("0 0 * * 1").day_of_week_restricted);
  EXPECT_FALSE(Parse("0 0 * * *").day_of_week_restricted);
  // Feb 29 exists in leap years, so it is not "never".
  EXPECT_TRUE(ParseCron("0 12 29 2 *").ok());
  // With both day fields restricted the weekday alone can match.
  EXPECT_TRUE(ParseCron("0 0 30 2 1").ok());
}

// Zones come from the system tz database, so any IANA name works, including offsets that are not
// whole hours and daylight-saving shifts of 30 minutes.
TEST(NextFireAfterTest, ZonesBeyondNewYork) {
  EXPECT_THAT(Fires("0 9 * * *", Zone("Europe/London"), "2024-03-30T00:00:00Z", 2),
              ::testing::ElementsAre("2024-03-30T09:00:00Z", "2024-03-31T08:00:00Z"));
  EXPECT_THAT(Fires("0 9 * * *", Zone("Asia/Kolkata"), "2024-01-01T00:00:00Z", 1),
              ::testing::ElementsAre("2024-01-01T03:30:00Z"));
  // Lord Howe Island moves its clocks by 30 minutes (02:00 -> 02:30 on 2024-10-06).
  EXPECT_THAT(Fires("15 2 * * *", Zone("Australia/Lord_Howe"), "2024-10-04T00:00:00Z", 2),
              ::testing::ElementsAre("2024-10-04T15:45:00Z", "2024-10-06T15:15:00Z"));
}

TEST(NextFireAfterTest, SeveralHoursADayInUtc) {
  EXPECT_THAT(Fires("0 7,12,16,22 * * *", TimeZone::Utc(), "2024-01-15T00:00:00Z", 6),
              ::testing::ElementsAre("2024-01-15T07:00:00Z", "2024-01-15T12:00:00Z", "2024-01-15T16:00:00Z",
                                     "2024-01-15T22:00:00Z", "2024-01-16T07:00:00Z", "2024-01-16T12:00:00Z"));
  CronSpec s = Parse("0 7,12,16,22 * * *");
  // Strictly after: a fire time itself is not returned again, even a millisecond before it is.
  EXPECT_EQ(NextFireAfter(s, TimeZone::Utc(), Ms("2024-01-15T07:00:00Z")), Ms("2024-01-15T12:00:00Z"));
  EXPECT_EQ(NextFireAfter(s, TimeZone::Utc(), Ms("2024-01-15T07:00:00Z") - 1), Ms("2024-01-15T07:00:00Z"));
  EXPECT_EQ(NextFireAfter(s, TimeZone::Utc(), Ms("2024-01-15T07:00:00Z") + 1), Ms("2024-01-15T12:00:00Z"));
  // Year end.
  EXPECT_EQ(NextFireAfter(s, TimeZone::Utc(), Ms("2024-12-31T22:00:00Z")), Ms("2025-01-01T07:00:00Z"));
}

TEST(NextFireAfterTest, EveryQuarterHour) {
  EXPECT_THAT(Fires("*/15 * * * *", TimeZone::Utc(), "2024-01-15T10:07:30Z", 4),
              ::testing::ElementsAre("2024-01-15T10:15:00Z", "2024-01-15T10:30:00Z", "2024-01-15T10:45:00Z",
                                     "2024-01-15T11:00:00Z"));
  EXPECT_THAT(Fires("*/15 * * * *", TimeZone::Utc(), "2024-02-29T23:45:00Z", 2),
              ::testing::ElementsAre("2024-03-01T00:00:00Z", "2024-03-01T00:15:00Z"));
}

TEST(NextFireAfterTest, EightAmNewYorkAcrossSpringForward) {
  // 08:00 EST is 13:00Z; from 2024-03-10 on, 08:00 EDT is 12:00Z.
  EXPECT_THAT(Fires("0 8 * * *", Zone("America/New_York"), "2024-03-08T14:00:00Z", 4),
              ::testing::ElementsAre("2024-03-09T13:00:00Z", "2024-03-10T12:00:00Z", "2024-03-11T12:00:00Z",
                                     "2024-03-12T12:00:00Z"));
}

TEST(NextFireAfterTest, EightAmNewYorkAcrossFallBack) {
  EXPECT_THAT(Fires("0 8 * * *", Zone("America/New_York"), "2024-11-01T13:00:00Z", 4),
              ::testing::ElementsAre("2024-11-02T12:00:00Z", "2024-11-03T13:00:00Z", "2024-11-04T13:00:00Z",
                                     "2024-11-05T13:00:00Z"));
}

TEST(NextFireAfterTest, WallTimeSkippedInSpringDoesNotFireThatDay) {
  // 02:30 does not exist in New York on 2024-03-10.
  EXPECT_THAT(Fires("30 2 * * *", Zone("America/New_York"), "2024-03-09T00:00:00Z", 3),
              ::testing::ElementsAre("2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"));
  // Every 30 min: local 01:30 EST is followed directly by 03:00 EDT.
  EXPECT_THAT(Fires("*/30 * * * *", Zone("America/New_York"), "2024-03-10T06:00:00Z", 3),
              ::testing::ElementsAre("2024-03-10T06:30:00Z", "2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z"));
}

TEST(NextFireAfterTest, WallTimeRepeatedInAutumnFiresOnceAtFirstOccurrence) {
  // 01:30 happens twice on 2024-11-03: 05:30Z (EDT) and 06:30Z (EST). Only the first fires.
  EXPECT_THAT(Fires("30 1 * * *", Zone("America/New_York"), "2024-11-02T12:00:00Z", 3),
              ::testing::ElementsAre("2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z", "2024-11-05T06:30:00Z"));
  // Starting inside the second pass of the repeated hour does not fire its wall times again.
  CronSpec s = Parse("30 1 * * *");
  EXPECT_EQ(NextFireAfter(s, Zone("America/New_York"), Ms("2024-11-03T06:10:00Z")), Ms("2024-11-04T06:30:00Z"));
  // Every 30 min: 01:00 and 01:30 fire in the first pass only; the next fire is 02:00 EST.
  EXPECT_THAT(Fires("*/30 * * * *", Zone("America/New_York"), "2024-11-03T05:00:00Z", 3),
              ::testing::ElementsAre("2024-11-03T05:30:00Z", "2024-11-03T07:00:00Z", "2024-11-03T07:30:00Z"));
}

TEST(NextFireAfterTest, EveryNewYorkFireOf2024IsAtEightLocal) {
  CronSpec s = Parse("0 8 * * *");
  int64_t t = Ms("2023-12-31T14:00:00Z");
  for (int i = 0; i < 366; ++i) {
    int64_t next = NextFireAfter(s, Zone("America/New_York"), t);
    int64_t secs = next / 1000;
    EXPECT_EQ((secs + EasternOffsetSeconds(secs)) % 86400, 8 * 3600) << Iso(next);
    EXPECT_EQ(EasternDate(secs), EasternDate(t / 1000) + 1) << Iso(next);
    t = next;
  }
  EXPECT_EQ(Iso(t), "2024-12-31T13:00:00Z");
}

TEST(NextFireAfterTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 13th, or any Friday. 2024-09-06/13/20 are Fridays; 2024-10-13 is a Sunday.
  EXPECT_THAT(Fires("0 0 13 * 5", TimeZone::Utc(), "2024-09-01T00:00:00Z", 3),
              ::testing::ElementsAre("2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z"));
  EXPECT_THAT(Fires("0 0 13 * 5", TimeZone::Utc(), "2024-10-05T00:00:00Z", 3),
              ::testing::ElementsAre("2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z", "2024-10-18T00:00:00Z"));
  // Only one day field restricted: both must match. Mondays only:
  EXPECT_THAT(Fires("0 0 * * 1", TimeZone::Utc(), "2024-09-01T00:00:00Z", 2),
              ::testing::ElementsAre("2024-09-02T00:00:00Z", "2024-09-09T00:00:00Z"));
  // '*/2' counts as unrestricted, so this is odd-numbered Mondays (AND), not odd days or Mondays.
  EXPECT_THAT(Fires("0 0 */2 * 1", TimeZone::Utc(), "2024-09-01T00:00:00Z", 2),
              ::testing::ElementsAre("2024-09-09T00:00:00Z", "2024-09-23T00:00:00Z"));
  // CronMatches agrees.
  CronSpec s = Parse("0 0 13 * 5");
  EXPECT_TRUE(CronMatches(s, DaysFromCivil(2024, 10, 13), 0, 0));  // Sunday the 13th
  EXPECT_TRUE(CronMatches(s, DaysFromCivil(2024, 10, 11), 0, 0));  // Friday the 11th
  EXPECT_FALSE(CronMatches(s, DaysFromCivil(2024, 10, 12), 0, 0));
  EXPECT_FALSE(CronMatches(s, DaysFromCivil(2024, 10, 13), 0, 1));
}

TEST(NextFireAfterTest, FebruaryTwentyNinth) {
  EXPECT_THAT(Fires("0 12 29 2 *", TimeZone::Utc(), "2023-06-01T00:00:00Z", 3),
              ::testing::ElementsAre("2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"));
  // 2100 is not a leap year: 2096 is followed by 2104.
  EXPECT_THAT(Fires("0 12 29 2 *", TimeZone::Utc(), "2096-03-01T00:00:00Z", 1),
              ::testing::ElementsAre("2104-02-29T12:00:00Z"));
  EXPECT_THAT(Fires("0 8 29 2 *", Zone("America/New_York"), "2024-01-01T00:00:00Z", 1),
              ::testing::ElementsAre("2024-02-29T13:00:00Z"));
}

TEST(NextFireAfterTest, RareSpecIsFoundWithoutScanningMinutes) {
  // A century of yearly fires: each call skips whole months, so this stays fast at -O0.
  CronSpec s = Parse("0 0 1 1 *");
  int64_t t = Ms("2024-01-01T00:00:00Z");
  for (int i = 0; i < 100; ++i) t = NextFireAfter(s, Zone("America/New_York"), t);
  EXPECT_EQ(Iso(t), "2123-01-01T05:00:00Z");  // 2024 itself is the first
}

}  // namespace
}  // namespace nbaprops::engine
