// Calendar dates and timestamps.
//
// Game dates are calendar days in America/New_York, written YYYY-MM-DD; timestamps are Unix
// seconds UTC, written ISO-8601 with a Z. Eastern time is computed from the US rule in force
// since 2007 (DST from the 2nd Sunday of March 02:00 to the 1st Sunday of November 02:00), so
// results do not depend on the machine's tz database. Every function is pure and thread-safe.
#ifndef NBAPROPS_BASE_TIME_H_
#define NBAPROPS_BASE_TIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nbaprops {

// Days since 1970-01-01.
int32_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(int32_t days, int* year, int* month, int* day);

// Strict YYYY-MM-DD (a real calendar day).
std::optional<int32_t> ParseIsoDate(std::string_view s);
std::string FormatIsoDate(int32_t days);
bool IsIsoDate(std::string_view s);

// Best-effort reading of dates people write ("APR 14, 2024", "Apr 14 2024", "04/14/2024"),
// used to suggest the ISO spelling in error messages; never used to accept input silently.
std::optional<int32_t> GuessDate(std::string_view s);

// ISO-8601 timestamp: "2024-01-31T00:30:00Z", "2024-01-31 00:30:00", "+HH:MM" offsets.
std::optional<int64_t> ParseIsoTimestamp(std::string_view s);
std::string FormatIsoTimestamp(int64_t unix_seconds);

// Offset of America/New_York from UTC at that instant, in seconds (-18000 or -14400).
int32_t EasternOffsetSeconds(int64_t unix_seconds);
// The America/New_York calendar date of an instant.
int32_t EasternDate(int64_t unix_seconds);
// EasternDate for an instant read from a payload: the date when it is one ParseIsoDate accepts
// (1900-01-01 to 2200-12-31), else nothing. Bounded before any calendar arithmetic, which would
// overflow for a far-off time (Unix seconds 9e15), and an instant at the edge stays out
// (1900-01-01T00:00:00Z is still 1899 in New York).
std::optional<int32_t> EasternDateInRange(int64_t unix_seconds);
// The instant at which local Eastern time on `days` reads hh:mm.
int64_t EasternLocalToUtc(int32_t days, int hour, int minute);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_TIME_H_
