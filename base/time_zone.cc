#include "base/time_zone.h"

#include <date/tz.h>

#include <chrono>
#include <exception>

namespace nbaprops {
namespace {

const date::time_zone* Zone(const void* p) { return static_cast<const date::time_zone*>(p); }

}  // namespace

TimeZone TimeZone::Utc() { return TimeZone(nullptr, "UTC"); }

StatusOr<TimeZone> TimeZone::Find(std::string_view name) {
  if (name == "UTC") return Utc();
  try {
    // Loading the database can fail as a whole (no tzdata); locate_zone fails for unknown names.
    date::get_tzdb();
  } catch (const std::exception& e) {
    return FailedPreconditionError(std::string("cannot read the time zone database (/usr/share/zoneinfo): ") +
                                   e.what() + "; install the Debian package tzdata");
  }
  try {
    const date::time_zone* zone = date::locate_zone(name);
    return TimeZone(zone, std::string(name));
  } catch (const std::exception&) {
    return InvalidArgumentError("unknown time zone \"" + std::string(name) +
                                "\"; use an IANA name such as America/New_York or UTC (list them with "
                                "`timedatectl list-timezones` or `ls /usr/share/zoneinfo`)");
  }
}

int64_t TimeZone::UtcToLocalSeconds(int64_t utc_seconds) const {
  if (zone_ == nullptr) return utc_seconds;
  date::sys_seconds t{std::chrono::seconds(utc_seconds)};
  return utc_seconds + Zone(zone_)->get_info(t).offset.count();
}

std::optional<int64_t> TimeZone::LocalToUtcSeconds(int64_t local_seconds) const {
  if (zone_ == nullptr) return local_seconds;
  date::local_seconds t{std::chrono::seconds(local_seconds)};
  date::local_info info = Zone(zone_)->get_info(t);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      // For an ambiguous time, `first` is the offset in force before the change: the earlier instant.
      return local_seconds - info.first.offset.count();
    case date::local_info::nonexistent:
      break;
  }
  return std::nullopt;
}

}  // namespace nbaprops
