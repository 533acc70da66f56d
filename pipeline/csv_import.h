// Internal to pipeline/: the CSV machinery shared by the import-format parsers (formats.cc,
// rotowire_format.cc). Reads records with file:line locations, rejects merge-conflict markers,
// repeated or changed headers, invalid UTF-8 and wrong field counts, and gives typed field access
// that collects the first problem of a record as its reject reason.
#ifndef NBAPROPS_PIPELINE_CSV_IMPORT_H_
#define NBAPROPS_PIPELINE_CSV_IMPORT_H_

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/csv.h"
#include "base/strings.h"
#include "base/time.h"
#include "pipeline/formats.h"
#include "pipeline/player_names.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline::csv_import {

struct KindSpec {
  ImportKind kind;
  const char* name;
  std::vector<std::string> required;
  std::vector<std::string> optional;
};


// Every CSV kind, in detection order (formats.cc).
const std::vector<KindSpec>& CsvSpecs();
// The spec of a CSV kind; nullptr for JSON kinds.
const KindSpec* SpecFor(ImportKind kind);

inline bool IsConflictMarker(std::string_view line) {
  return StartsWith(line, "<<<<<<<") || StartsWith(line, "=======") || StartsWith(line, ">>>>>>>");
}

// Reads CSV records, turning merge-conflict markers and repeated headers into rejects.
class CsvSource {
 public:
  CsvSource(std::string_view content, std::string name, const KindSpec* spec, std::vector<Reject>* rejects)
      : reader_(content), name_(std::move(name)), spec_(spec), rejects_(rejects) {}

  // Finds the header (the first record that is not a conflict marker).
  bool ReadHeader() {
    CsvRecord rec;
    while (reader_.Next(&rec)) {
      if (IsConflictMarker(rec.raw)) {
        RejectRaw(rec, "git merge-conflict marker line; resolve the conflict in the source file and re-import");
        continue;
      }
      header_raw_ = std::string(rec.raw);
      header_ = CsvHeader(rec.fields);
      return true;
    }
    return false;
  }

  // Next data record; false at end. Skips (and rejects) markers, repeated headers, bad UTF-8,
  // wrong field counts.
  bool Next(CsvRecord* rec) {
    while (reader_.Next(rec)) {
      if (IsConflictMarker(rec->raw)) {
        RejectRaw(*rec, "git merge-conflict marker line; resolve the conflict in the source file and re-import");
        continue;
      }
      if (rec->raw == header_raw_) {
        RejectRaw(*rec, "repeated header line (files concatenated or merged?)");
        continue;
      }
      if (spec_ && LooksLikeHeader(rec->fields)) {
        // A merge of two versions of a file can bring a second header with other columns;
        // the rows after it follow that header.
        RejectRaw(*rec, "new header line inside the file (two versions merged?); the rows after it are read with it");
        header_raw_ = std::string(rec->raw);
        header_ = CsvHeader(rec->fields);
        ++header_version_;
        continue;
      }
      if (!rec->error.empty()) {
        RejectRaw(*rec, rec->error);
        continue;
      }
      if (!IsValidUtf8(rec->raw)) {
        size_t bad = FirstInvalidUtf8(rec->raw);
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(rec->raw[bad]));
        RejectRaw(*rec, std::string("not valid UTF-8 (byte ") + buf + " at column " + std::to_string(bad + 1) +
                            "); re-save the file as UTF-8");
        continue;
      }
      if (rec->fields.size() != header_.names().size()) {
        RejectRaw(*rec, "expected " + std::to_string(header_.names().size()) + " fields like the header, found " +
                            std::to_string(rec->fields.size()) + " (truncated line or unquoted comma?)");
        continue;
      }
      return true;
    }
    return false;
  }

  void RejectRaw(const CsvRecord& rec, std::string reason) {
    rejects_->push_back({Location(rec), std::move(reason), Truncate(rec.raw)});
  }
  std::string Location(const CsvRecord& rec) const { return name_ + ":" + std::to_string(rec.line); }
  const CsvHeader& header() const { return header_; }
  int header_version() const { return header_version_; }

 private:
  bool LooksLikeHeader(const std::vector<std::string>& fields) const {
    // Cheap test first: a header names the first required column somewhere.
    const std::string& first = spec_->required.front();
    bool named = false;
    for (const std::string& f : fields) {
      if (f.size() == first.size() && ToLower(f) == first) named = true;
    }
    if (!named) return false;
    CsvHeader h(fields);
    for (const auto& c : spec_->required) {
      if (!h.Has(c)) return false;
    }
    return true;
  }

  static size_t FirstInvalidUtf8(std::string_view s) {
    for (size_t i = 0; i < s.size(); ++i) {
      if (!IsValidUtf8(s.substr(0, i + 1)) && !IsValidUtf8(s.substr(0, std::min(s.size(), i + 4)))) return i;
    }
    return 0;
  }

  CsvReader reader_;
  std::string name_;
  const KindSpec* spec_;
  std::vector<Reject>* rejects_;
  CsvHeader header_;
  std::string header_raw_;
  int header_version_ = 0;
};

// Field access by column name with typed validation; collects the first error of a record.
// Column positions by name, looked up once per file: names are string literals, so their
// address identifies them.
class ColumnCache {
 public:
  explicit ColumnCache(const CsvHeader& h) : h_(h) {}
  int Index(std::string_view col) {
    for (const auto& [ptr, idx] : cache_) {
      if (ptr == col.data()) return idx;
    }
    int idx = h_.Index(col);
    cache_.emplace_back(col.data(), idx);
    return idx;
  }

 private:
  const CsvHeader& h_;
  std::vector<std::pair<const char*, int>> cache_;
};

class Fields {
 public:
  Fields(ColumnCache& columns, const CsvRecord& r) : columns_(columns), r_(r) {}

  std::string_view Get(std::string_view col) const {
    int i = columns_.Index(col);
    return i < 0 ? std::string_view() : Trim(r_.fields[static_cast<size_t>(i)]);
  }
  std::string Text(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (required && v.empty()) Fail(std::string(col) + " is empty");
    return std::string(v);
  }
  std::optional<int> Int(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return std::nullopt;
    }
    auto x = ParseInt(v);
    if (!x) {
      auto d = ParseDouble(v);  // "12.0" from spreadsheets
      if (d && std::floor(*d) == *d && std::fabs(*d) < 1e6) return static_cast<int>(*d);
      Fail(std::string(col) + " '" + std::string(v) + "' is not a whole number" +
           (d && std::floor(*d) == *d ? " in range" : ""));
      return std::nullopt;
    }
    // No count, score or price is near a million; larger values would overflow the sums the parsers
    // check (2*fgm+fg3m+ftm in formats.cc) or wrap in the cast.
    if (*x <= -1'000'000 || *x >= 1'000'000) {
      Fail(std::string(col) + " '" + std::string(v) + "' is out of range");
      return std::nullopt;
    }
    return static_cast<int>(*x);
  }
  std::optional<double> Double(std::string_view col, bool required = false) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return std::nullopt;
    }
    auto x = ParseDouble(v);
    if (!x || !std::isfinite(*x)) Fail(std::string(col) + " '" + std::string(v) + "' is not a number");
    return x;
  }
  std::string Date(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty; write the date as YYYY-MM-DD");
      return "";
    }
    if (IsIsoDate(v)) return std::string(v);
    std::string msg = std::string(col) + " '" + std::string(v) + "' is not an ISO date (YYYY-MM-DD)";
    if (auto guess = GuessDate(v)) msg += "; write it as " + FormatIsoDate(*guess);
    Fail(msg);
    return "";
  }
  std::optional<int64_t> Timestamp(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty; write an ISO-8601 UTC time like 2024-01-31T00:30:00Z");
      return std::nullopt;
    }
    auto t = ParseIsoTimestamp(v);
    if (!t) Fail(std::string(col) + " '" + std::string(v) + "' is not an ISO-8601 time like 2024-01-31T00:30:00Z");
    return t;
  }
  std::string Team(std::string_view col, bool required = true) {
    std::string_view v = Get(col);
    if (v.empty()) {
      if (required) Fail(std::string(col) + " is empty");
      return "";
    }
    auto t = NormalizeTeam(v);
    if (!t) Fail(std::string(col) + " '" + std::string(v) + "' is not an NBA team (use a code like BOS or a full name)");
    return t.value_or("");
  }
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  const std::string& error() const { return error_; }

 private:
  ColumnCache& columns_;
  const CsvRecord& r_;
  std::string error_;
};


template <typename Fn>
Status ParseCsv(ImportKind kind, std::string_view content, const std::string& name, ParsedPayload* out, Fn&& per_row) {
  const KindSpec* spec = SpecFor(kind);
  CsvSource src(content, name, spec, &out->rejects);
  if (!src.ReadHeader()) return InvalidArgumentError(name + ": the file is empty (no header line)");
  std::vector<std::string> missing;
  for (const std::string& col : spec->required) {
    if (!src.header().Has(col)) missing.push_back(col);
  }
  if (!missing.empty()) {
    return InvalidArgumentError(name + ":1: missing required column" + (missing.size() > 1 ? "s " : " ") +
                                Join(missing, ", ") + " for a " + spec->name + " file (header has: " +
                                Join(src.header().names(), ", ") + "); see docs/import-formats.md");
  }
  CsvRecord rec;
  auto columns = std::make_unique<ColumnCache>(src.header());
  int header_version = src.header_version();
  while (src.Next(&rec)) {
    if (src.header_version() != header_version) {
      header_version = src.header_version();
      columns = std::make_unique<ColumnCache>(src.header());
    }
    Fields f(*columns, rec);
    std::string location = src.Location(rec);
    per_row(f, location);
    if (!f.error().empty()) src.RejectRaw(rec, f.error());
  }
  return OkStatus();
}


// RotoWire prop-page snapshots (rotowire_format.cc).
Status ParseRotowire(std::string_view content, const std::string& name, int64_t fetched_at, ParsedPayload* out);

}  // namespace nbaprops::pipeline::csv_import

#endif  // NBAPROPS_PIPELINE_CSV_IMPORT_H_
