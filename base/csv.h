// A small RFC-4180 CSV reader over an in-memory buffer.
//
// Records may span lines inside quotes; `line` is the 1-based line where a record starts, so
// error messages can say "file.csv:17". A UTF-8 BOM and CRLF line ends are accepted. A record
// with an unterminated quote is returned with `error` set rather than swallowing the rest of the
// file silently. Not thread-safe; one reader per buffer.
#ifndef NBAPROPS_BASE_CSV_H_
#define NBAPROPS_BASE_CSV_H_

#include <string>
#include <string_view>
#include <vector>

namespace nbaprops {

struct CsvRecord {
  std::vector<std::string> fields;
  int line = 0;          // 1-based line of the first character of the record
  std::string_view raw;  // the record's text without its line end
  std::string error;     // non-empty when the record is malformed
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view data);
  // Reads the next record; false at end of input. Blank lines are skipped.
  bool Next(CsvRecord* rec);

 private:
  std::string_view data_;
  size_t pos_ = 0;
  int line_ = 1;
};

// Column lookup by header name; -1 when absent.
class CsvHeader {
 public:
  CsvHeader() = default;
  explicit CsvHeader(const std::vector<std::string>& names);
  int Index(std::string_view name) const;
  bool Has(std::string_view name) const { return Index(name) >= 0; }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
};

// Quotes a field when it needs it.
std::string CsvEscape(std::string_view field);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_CSV_H_
