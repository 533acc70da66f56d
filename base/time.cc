#include "base/time.h"

#include <cctype>
#include <cstdio>

namespace nbaprops {
namespace {

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool ValidCivil(int y, int m, int d) {
  return y >= 1900 && y <= 2200 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

// Day of week, 0 = Sunday.
int Weekday(int32_t days) { return static_cast<int>(((days % 7) + 7 + 4) % 7); }

// The n-th Sunday (1-based) of a month.
int32_t NthSunday(int year, int month, int n) {
  int32_t first = DaysFromCivil(year, month, 1);
  int32_t first_sunday = first + (7 - Weekday(first)) % 7;
  return first_sunday + 7 * (n - 1);
}

}  // namespace

int32_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void CivilFromDays(int32_t z, int* year, int* month, int* day) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  *year = y + (m <= 2);
  *month = static_cast<int>(m);
  *day = static_cast<int>(d);
}

std::optional<int32_t> ParseIsoDate(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  if (!ReadInt(s, 0, 4, &y) || !ReadInt(s, 5, 2, &m) || !ReadInt(s, 8, 2, &d)) return std::nullopt;
  if (!ValidCivil(y, m, d)) return std::nullopt;
  return DaysFromCivil(y, m, d);
}

bool IsIsoDate(std::string_view s) { return ParseIsoDate(s).has_value(); }

std::string FormatIsoDate(int32_t days) {
  int y, m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::optional<int32_t> GuessDate(std::string_view s) {
  if (auto iso = ParseIsoDate(s)) return iso;
  int y, m, d;
  // MM/DD/YYYY
  if (s.size() == 10 && s[2] == '/' && s[5] == '/' && ReadInt(s, 0, 2, &m) &&
      ReadInt(s, 3, 2, &d) && ReadInt(s, 6, 4, &y) && ValidCivil(y, m, d)) {
    return DaysFromCivil(y, m, d);
  }
  // "APR 14, 2024" / "Apr 14 2024"
  static constexpr const char* kMonths[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                            "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  if (s.size() >= 10) {
    std::string mon;
    for (int i = 0; i < 3; ++i) mon += static_cast<char>(std::toupper(static_cast<unsigned char>(s[i])));
    for (int i = 0; i < 12; ++i) {
      if (mon != kMonths[i]) continue;
      size_t pos = 3;
      while (pos < s.size() && std::isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
      while (pos < s.size() && s[pos] == ' ') ++pos;
      size_t dstart = pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
      if (pos == dstart || pos - dstart > 2 || !ReadInt(s, dstart, pos - dstart, &d)) return std::nullopt;
      while (pos < s.size() && (s[pos] == ',' || s[pos] == ' ')) ++pos;
      if (s.size() - pos != 4 || !ReadInt(s, pos, 4, &y) || !ValidCivil(y, i + 1, d)) return std::nullopt;
      return DaysFromCivil(y, i + 1, d);
    }
  }
  return std::nullopt;
}

std::optional<int64_t> ParseIsoTimestamp(std::string_view s) {
  if (s.size() < 19) return std::nullopt;
  auto date = ParseIsoDate(s.substr(0, 10));
  if (!date || (s[10] != 'T' && s[10] != ' ')) return std::nullopt;
  int hh, mm, ss;
  if (!ReadInt(s, 11, 2, &hh) || s[13] != ':' || !ReadInt(s, 14, 2, &mm) || s[16] != ':' ||
      !ReadInt(s, 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {  // fractional seconds are dropped
    ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
  }
  int64_t offset = 0;
  std::string_view rest = s.substr(pos);
  if (rest == "Z" || rest.empty()) {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh, om;
    if (!ReadInt(rest, 1, 2, &oh) || !ReadInt(rest, 4, 2, &om)) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return static_cast<int64_t>(*date) * 86400 + hh * 3600 + mm * 60 + ss - offset;
}

std::string FormatIsoTimestamp(int64_t t) {
  int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  int64_t secs = t - days * 86400;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", FormatIsoDate(static_cast<int32_t>(days)).c_str(),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  return buf;
}

int32_t EasternOffsetSeconds(int64_t t) {
  int y, m, d;
  CivilFromDays(static_cast<int32_t>(t / 86400), &y, &m, &d);
  // DST starts 02:00 EST (07:00 UTC) and ends 02:00 EDT (06:00 UTC).
  int64_t start = static_cast<int64_t>(NthSunday(y, 3, 2)) * 86400 + 7 * 3600;
  int64_t end = static_cast<int64_t>(NthSunday(y, 11, 1)) * 86400 + 6 * 3600;
  return (t >= start && t < end) ? -4 * 3600 : -5 * 3600;
}

int32_t EasternDate(int64_t t) {
  int64_t local = t + EasternOffsetSeconds(t);
  return static_cast<int32_t>(local >= 0 ? local / 86400 : (local - 86399) / 86400);
}

std::optional<int32_t> EasternDateInRange(int64_t t) {
  constexpr int64_t kFirst = -2208988800;  // 1900-01-01T00:00:00Z
  constexpr int64_t kLast = 7289654399;    // 2200-12-31T23:59:59Z
  // The Eastern offset is under a day, so an instant a day outside [kFirst, kLast] is out anyway.
  if (t < kFirst - 86400 || t > kLast + 86400) return std::nullopt;
  const int32_t day = EasternDate(t);
  if (day < DaysFromCivil(1900, 1, 1) || day > DaysFromCivil(2200, 12, 31)) return std::nullopt;
  return day;
}

int64_t EasternLocalToUtc(int32_t days, int hour, int minute) {
  int64_t local = static_cast<int64_t>(days) * 86400 + hour * 3600 + minute * 60;
  // Try the standard offset first; if the result is in DST, use the DST offset.
  int64_t guess = local + 5 * 3600;
  return local - EasternOffsetSeconds(guess);
}

}  // namespace nbaprops
