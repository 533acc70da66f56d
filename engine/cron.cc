#include "engine/cron.h"

#include <array>
#include <cctype>
#include <limits>
#include <optional>
#include <vector>

#include "base/time.h"

namespace nbaprops::engine {
namespace {

constexpr std::array<std::string_view, 13> kMonthNames = {"",    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 8> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"};

struct FieldInfo {
  std::string_view name;
  int min;
  int max;
  const std::string_view* names;  // indexed by value; nullptr when the field takes numbers only
  int names_size;
};

constexpr FieldInfo kFields[5] = {
    {"minute", 0, 59, nullptr, 0},
    {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0},
    {"month", 1, 12, kMonthNames.data(), static_cast<int>(kMonthNames.size())},
    {"day-of-week", 0, 7, kDayNames.data(), static_cast<int>(kDayNames.size())},
};

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m];
}

int Weekday(int64_t days) {  // 0 = Sunday; 1970-01-01 was a Thursday
  int64_t w = (days + 4) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

Status FieldError(std::string_view expr, const FieldInfo& f, std::string_view text, const std::string& why) {
  return InvalidArgumentError("cron \"" + std::string(expr) + "\": " + std::string(f.name) + " field \"" +
                              std::string(text) + "\": " + why);
}

// Strict unsigned decimal: the whole token, digits only (no signs, no spaces).
std::optional<int> ParseDigits(std::string_view s) {
  if (s.empty() || s.size() > 4) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

StatusOr<int> ParseValue(std::string_view expr, const FieldInfo& f, std::string_view field_text,
                         std::string_view token) {
  std::optional<int> v = ParseDigits(token);
  if (!v && f.names != nullptr && token.size() == 3) {
    std::string upper;
    for (char c : token) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (int i = 0; i < f.names_size; ++i) {
      if (f.names[i] == upper) {
        v = i;
        break;
      }
    }
  }
  if (!v) {
    std::string hint = f.names == &kMonthNames[0] ? " (use 1-12 or JAN-DEC)"
                       : f.names == &kDayNames[0] ? " (use 0-7 or SUN-SAT)"
                                                  : "";
    return FieldError(expr, f, field_text, "\"" + std::string(token) + "\" is not a number" + hint);
  }
  if (*v < f.min || *v > f.max) {
    return FieldError(expr, f, field_text,
                      std::to_string(*v) + " is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max));
  }
  return *v;
}

// Parses one field into the values it selects (in the field's own numbering, so day-of-week
// may contain 7).
StatusOr<std::vector<int>> ParseField(std::string_view expr, const FieldInfo& f, std::string_view text) {
  std::vector<int> values;
  size_t pos = 0;
  while (true) {
    size_t comma = text.find(',', pos);
    std::string_view item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    if (item.empty()) return FieldError(expr, f, text, "empty list item (check for a stray comma)");

    std::string_view range = item;
    int step = 1;
    bool has_step = false;
    if (size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      std::string_view step_text = item.substr(slash + 1);
      std::optional<int> s = ParseDigits(step_text);
      if (!s || *s < 1 || *s > f.max) {
        return FieldError(
            expr, f, text,
            "step \"" + std::string(step_text) + "\" must be a number from 1 to " + std::to_string(f.max));
      }
      step = *s;
      has_step = true;
    }

    int lo, hi;
    if (range == "*") {
      lo = f.min;
      hi = f.max;
    } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
      ASSIGN_OR_RETURN(lo, ParseValue(expr, f, text, range.substr(0, dash)));
      ASSIGN_OR_RETURN(hi, ParseValue(expr, f, text, range.substr(dash + 1)));
      if (lo > hi) {
        // Cron has no wrap-around ranges; say how to write one instead of guessing.
        return FieldError(expr, f, text,
                          "range " + std::string(range) + " runs backwards; write it as two ranges, e.g. " +
                              std::string(range.substr(0, dash)) + "-" + std::to_string(f.max) + "," +
                              std::to_string(f.min) + "-" + std::string(range.substr(dash + 1)));
      }
    } else {
      ASSIGN_OR_RETURN(lo, ParseValue(expr, f, text, range));
      hi = has_step ? f.max : lo;  // "5/15" = "5-max/15", as cronie reads it
    }
    for (int v = lo; v <= hi; v += step) values.push_back(v);

    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return values;
}

bool DayMatches(const CronSpec& spec, int day_of_month, int weekday) {
  bool dom = spec.days_of_month.test(day_of_month);
  bool dow = spec.days_of_week.test(weekday);
  if (spec.day_of_month_restricted && spec.day_of_week_restricted) return dom || dow;
  return dom && dow;
}

}  // namespace

StatusOr<CronSpec> ParseCron(std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    size_t start = i;
    while (i < expr.size() && !std::isspace(static_cast<unsigned char>(expr[i]))) ++i;
    if (i > start) fields.push_back(expr.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return InvalidArgumentError("cron \"" + std::string(expr) + "\": expected 5 fields (minute hour day-of-month " +
                                "month day-of-week), got " + std::to_string(fields.size()) +
                                "; e.g. \"0 8 * * *\" is 08:00 every day");
  }

  CronSpec spec;
  spec.expr = std::string(expr);
  for (int f = 0; f < 5; ++f) {
    ASSIGN_OR_RETURN(std::vector<int> values, ParseField(expr, kFields[f], fields[f]));
    for (int v : values) {
      switch (f) {
        case 0:
          spec.minutes.set(v);
          break;
        case 1:
          spec.hours.set(v);
          break;
        case 2:
          spec.days_of_month.set(v);
          break;
        case 3:
          spec.months.set(v);
          break;
        case 4:
          spec.days_of_week.set(v % 7);
          break;
      }
    }
  }
  // Vixie cron's rule: a field written starting with '*' does not restrict the day.
  spec.day_of_month_restricted = fields[2][0] != '*';
  spec.day_of_week_restricted = fields[4][0] != '*';

  // With the OR rule the weekday alone can match; otherwise some selected day must exist in some
  // selected month (Feb 29 counts: leap years exist), or the schedule would silently never fire.
  if (!(spec.day_of_month_restricted && spec.day_of_week_restricted)) {
    bool possible = false;
    for (int m = 1; m <= 12 && !possible; ++m) {
      if (!spec.months.test(m)) continue;
      for (int d = 1; d <= DaysInMonth(2000, m) && !possible; ++d) possible = spec.days_of_month.test(d);
    }
    if (!possible) {
      return InvalidArgumentError("cron \"" + std::string(expr) +
                                  "\": the day-of-month and month fields select no real date, so it would never "
                                  "fire; check the day (e.g. no 30th of February)");
    }
  }
  return spec;
}

bool CronMatches(const CronSpec& spec, int32_t local_days, int hour, int minute) {
  int y, m, d;
  CivilFromDays(local_days, &y, &m, &d);
  return spec.months.test(m) && DayMatches(spec, d, Weekday(local_days)) && spec.hours.test(hour) &&
         spec.minutes.test(minute);
}

int64_t NextFireAfter(const CronSpec& spec, const TimeZone& zone, int64_t after_ms) {
  // Offsets since 1972 are whole minutes, so UTC minute boundaries are local minute boundaries too.
  const int64_t start_utc_s = (FloorDiv(after_ms, 60'000) + 1) * 60;
  const int64_t start_local_s = zone.UtcToLocalSeconds(start_utc_s);
  const int32_t start_days = static_cast<int32_t>(FloorDiv(start_local_s, 86400));
  const int start_minute_of_day = static_cast<int>(start_local_s - static_cast<int64_t>(start_days) * 86400) / 60;

  int year, month, day;
  CivilFromDays(start_days, &year, &month, &day);
  // Every (month, day, weekday) combination recurs within one 400-year Gregorian cycle.
  const int last_year = year + 401;
  for (; year <= last_year; ++year, month = 1, day = 1) {
    for (; month <= 12; ++month, day = 1) {
      if (!spec.months.test(month)) continue;
      const int32_t first_of_month = DaysFromCivil(year, month, 1);
      const int days_in_month = DaysInMonth(year, month);
      for (; day <= days_in_month; ++day) {
        const int32_t days = first_of_month + day - 1;
        if (!DayMatches(spec, day, Weekday(days))) continue;
        const int from = days == start_days ? start_minute_of_day : 0;
        for (int h = from / 60; h < 24; ++h) {
          if (!spec.hours.test(h)) continue;
          for (int mi = (h == from / 60 ? from % 60 : 0); mi < 60; ++mi) {
            if (!spec.minutes.test(mi)) continue;
            std::optional<int64_t> utc =
                zone.LocalToUtcSeconds(static_cast<int64_t>(days) * 86400 + h * 3600 + mi * 60);
            // A wall time that does not exist today is skipped. Near the autumn change the start
            // may lie in the repeated hour's second pass, so earlier first passes are skipped too.
            if (utc && *utc * 1000 > after_ms) return *utc * 1000;
          }
        }
      }
    }
  }
  return std::numeric_limits<int64_t>::max();
}

}  // namespace nbaprops::engine
