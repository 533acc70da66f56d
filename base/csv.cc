#include "base/csv.h"

#include "base/strings.h"

namespace nbaprops {

CsvReader::CsvReader(std::string_view data) : data_(data) {
  if (data_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::Next(CsvRecord* rec) {
  // Skip blank lines.
  while (pos_ < data_.size() && (data_[pos_] == '\n' || data_[pos_] == '\r')) {
    if (data_[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= data_.size()) return false;

  rec->line = line_;
  rec->error.clear();
  size_t nfields = 0;
  auto field = [&]() -> std::string& {
    if (rec->fields.size() <= nfields) rec->fields.emplace_back();
    std::string& f = rec->fields[nfields++];
    f.clear();
    return f;
  };

  const size_t start = pos_;
  std::string* cur = &field();
  bool in_quotes = false;
  bool at_field_start = true;
  size_t end = data_.size();
  while (pos_ < data_.size()) {
    char c = data_[pos_];
    if (in_quotes) {
      if (c == '"') {
        if (pos_ + 1 < data_.size() && data_[pos_ + 1] == '"') {
          cur->push_back('"');
          pos_ += 2;
          continue;
        }
        in_quotes = false;
        ++pos_;
        continue;
      }
      if (c == '\n') ++line_;
      cur->push_back(c);
      ++pos_;
      continue;
    }
    if (c == '"' && at_field_start) {
      in_quotes = true;
      at_field_start = false;
      ++pos_;
      continue;
    }
    if (c == ',') {
      cur = &field();
      at_field_start = true;
      ++pos_;
      continue;
    }
    if (c == '\n' || c == '\r') {
      end = pos_;
      if (c == '\r' && pos_ + 1 < data_.size() && data_[pos_ + 1] == '\n') ++pos_;
      ++pos_;
      ++line_;
      break;
    }
    cur->push_back(c);
    at_field_start = false;
    ++pos_;
  }
  if (pos_ >= data_.size() && end == data_.size()) end = data_.size();
  if (in_quotes) rec->error = "unterminated quoted field (file truncated or a stray '\"')";
  rec->fields.resize(nfields);
  rec->raw = data_.substr(start, end - start);
  return true;
}

CsvHeader::CsvHeader(const std::vector<std::string>& names) : names_(names) {
  for (auto& n : names_) n = ToLower(Trim(n));
}

int CsvHeader::Index(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string CsvEscape(std::string_view f) {
  if (f.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(f);
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

}  // namespace nbaprops
