// Plain-text tables for the terminal: columns padded to their widest cell.
#ifndef NBAPROPS_CLI_TABLE_H_
#define NBAPROPS_CLI_TABLE_H_

#include <string>
#include <vector>

namespace nbaprops::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }
  std::string Render() const {
    std::vector<size_t> w(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < w.size(); ++i) {
        std::string cell = i < r.size() ? r[i] : "";
        out += cell;
        if (i + 1 < w.size()) out += std::string(w[i] - cell.size() + 2, ' ');
      }
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += '\n';
    };
    line(header_);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_TABLE_H_
