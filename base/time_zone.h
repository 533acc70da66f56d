// Named time zones (IANA names such as "America/New_York", "Europe/London", "UTC"), read from the
// system's time zone database (/usr/share/zoneinfo, Debian package tzdata) through
// howardhinnant date/tz, so every rule change the database knows about is honoured.
//
// A TimeZone is a cheap value (a pointer into the process-wide database plus its name); copies
// share the database, which is loaded once and never freed. All methods are const and
// thread-safe.
#ifndef NBAPROPS_BASE_TIME_ZONE_H_
#define NBAPROPS_BASE_TIME_ZONE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nbaprops {

class TimeZone {
 public:
  // UTC, without touching the database (it works even when tzdata is missing).
  static TimeZone Utc();

  // kInvalidArgument for a name the database does not know (the message says how to list the
  // valid ones); kFailedPrecondition when the database itself cannot be read.
  static StatusOr<TimeZone> Find(std::string_view name);

  const std::string& name() const { return name_; }

  // Wall-clock seconds (seconds since 1970-01-01 00:00 local) for a UTC instant.
  int64_t UtcToLocalSeconds(int64_t utc_seconds) const;

  // The earliest UTC instant at which the wall clock reads local_seconds; nullopt when that wall
  // time does not exist (skipped when clocks spring forward). For a wall time that repeats when
  // clocks fall back, the first occurrence.
  std::optional<int64_t> LocalToUtcSeconds(int64_t local_seconds) const;

  bool operator==(const TimeZone& o) const { return name_ == o.name_; }

 private:
  TimeZone(const void* zone, std::string name) : zone_(zone), name_(std::move(name)) {}

  const void* zone_;  // const date::time_zone*; nullptr for UTC (kept out of this header: tz.h is heavy)
  std::string name_;
};

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_TIME_ZONE_H_
