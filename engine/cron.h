// Cron specs: when a schedule fires, in the wall time of a named time zone.
//
// Five fields, separated by spaces: minute (0-59) hour (0-23) day-of-month (1-31) month (1-12,
// or JAN-DEC) day-of-week (0-7, or SUN-SAT; 0 and 7 are both Sunday). Each field is a
// comma-separated list of `*`, `N`, `A-B`, each optionally with a step `/S` (`*/15`, `10-50/10`;
// `N/S` means `N-max/S`).
//
// Day rule (as in Vixie cron / cronie): a field whose text begins with `*` (including `*/2`) is
// unrestricted. When both day-of-month and day-of-week are restricted, a day matches if EITHER
// matches ("0 0 1 * MON" fires on the 1st and on every Monday); otherwise both must match.
//
// Time zones: any IANA zone (base/time_zone.h, from the system's tz database). A local time that
// is skipped when clocks spring forward does not fire that day; a local time that repeats when
// clocks fall back fires once, at its first occurrence.
//
// Every function here is pure and thread-safe.
#ifndef NBAPROPS_ENGINE_CRON_H_
#define NBAPROPS_ENGINE_CRON_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time_zone.h"

namespace nbaprops::engine {

struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // bit 0 unused
  std::bitset<13> months;         // bit 0 unused
  std::bitset<7> days_of_week;    // 0 = Sunday; a 7 in the text is stored as 0
  bool day_of_month_restricted = false;
  bool day_of_week_restricted = false;
  std::string expr;  // the text it was parsed from, for messages
};

// Fails with kInvalidArgument naming the field and the offending value. Also rejects specs that
// can never fire (e.g. "0 0 30 2 *"), so NextFireAfter always finds a time for a parsed spec.
StatusOr<CronSpec> ParseCron(std::string_view expr);

// True when the spec matches the local wall time of that calendar day, hour and minute.
bool CronMatches(const CronSpec& spec, int32_t local_days, int hour, int minute);

// The first fire time strictly after `after_ms` (Unix ms), always on a whole minute. Skips
// non-matching months, days and hours, so a yearly spec costs about a year of day checks, not
// half a million minute checks. Returns INT64_MAX only for a spec ParseCron would have rejected.
int64_t NextFireAfter(const CronSpec& spec, const TimeZone& zone, int64_t after_ms);

}  // namespace nbaprops::engine

#endif  // NBAPROPS_ENGINE_CRON_H_
