// A strict parser of the Prometheus text exposition format 0.0.4, for tests (api/server_test.cc
// reads /metrics with it). Any violation is recorded in PromText::errors with the offending line.
#ifndef NBAPROPS_API_PROM_TEXT_PARSER_H_
#define NBAPROPS_API_PROM_TEXT_PARSER_H_

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"

namespace nbaprops::api::prom_text {


struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PromText {
  std::map<std::string, std::string> types;  // family -> type
  std::vector<PromSample> samples;
  std::vector<std::string> errors;

  // The one sample of `name` whose labels include `labels`; nullopt when none (or an error when
  // several match).
  std::optional<double> Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    std::optional<double> out;
    int n = 0;
    for (const auto& s : samples) {
      if (s.name != name) continue;
      bool match = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        if (it == s.labels.end() || it->second != v) match = false;
      }
      if (match) {
        out = s.value;
        ++n;
      }
    }
    EXPECT_LE(n, 1) << "several samples of " << name << " match";
    return out;
  }
};

inline bool ValidMetricName(const std::string& s) { return std::regex_match(s, std::regex("[a-zA-Z_:][a-zA-Z0-9_:]*")); }
inline bool ValidLabelName(const std::string& s) {
  return std::regex_match(s, std::regex("[a-zA-Z_][a-zA-Z0-9_]*")) && s.rfind("__", 0) != 0;
}

inline std::optional<double> ParsePromValue(const std::string& s) {
  if (s == "+Inf" || s == "Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  if (!std::regex_match(s, std::regex(R"([-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)"))) return std::nullopt;
  return std::stod(s);
}

inline PromText ParseProm(const std::string& text) {
  PromText p;
  auto fail = [&](const std::string& line, const std::string& why) { p.errors.push_back(why + ": '" + line + "'"); };
  if (text.empty() || text.back() != '\n') p.errors.push_back("the exposition must end with a newline");
  std::set<std::string> helped, finished;  // families with HELP; families whose block has ended
  std::string current;                     // family of the block being read
  std::set<std::string> series;            // name + labels, for duplicates
  auto enter = [&](const std::string& family, const std::string& line) {
    if (family == current) return;
    if (finished.count(family)) fail(line, "family " + family + " appears in two separate blocks");
    if (!current.empty()) finished.insert(current);
    current = family;
  };
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    if (line.empty()) {
      fail(line, "empty line");
      continue;
    }
    if (line[0] == '#') {
      std::smatch m;
      if (std::regex_match(line, m, std::regex(R"(# HELP (\S+) (.*))"))) {
        const std::string name = m[1];
        if (!ValidMetricName(name)) fail(line, "bad metric name in HELP");
        if (!helped.insert(name).second) fail(line, "second HELP for " + name);
        const std::string help = m[2];
        for (size_t i = 0; i < help.size(); ++i) {
          if (help[i] == '\\' && (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n'))) {
            fail(line, "bad escape in HELP");
          }
          if (help[i] == '\\') ++i;
        }
        enter(name, line);
      } else if (std::regex_match(line, m, std::regex(R"(# TYPE (\S+) (counter|gauge|histogram|summary|untyped))"))) {
        const std::string name = m[1];
        if (!ValidMetricName(name)) fail(line, "bad metric name in TYPE");
        if (p.types.count(name)) fail(line, "second TYPE for " + name);
        enter(name, line);
        p.types[name] = m[2];
      } else {
        fail(line, "a comment that is neither HELP nor TYPE");
      }
      continue;
    }
    // name{labels} value [timestamp]
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!ValidMetricName(s.name)) fail(line, "bad metric name");
    std::string canonical = s.name + "{";
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) {
          fail(line, "label without '='");
          break;
        }
        const std::string lname = line.substr(i, eq - i);
        if (!ValidLabelName(lname)) fail(line, "bad label name '" + lname + "'");
        if (eq + 1 >= line.size() || line[eq + 1] != '"') {
          fail(line, "label value not quoted");
          break;
        }
        std::string value;
        size_t j = eq + 2;
        bool closed = false;
        for (; j < line.size(); ++j) {
          if (line[j] == '\\') {
            if (j + 1 >= line.size()) break;
            const char e = line[++j];
            if (e == '\\')
              value += '\\';
            else if (e == '"')
              value += '"';
            else if (e == 'n')
              value += '\n';
            else
              fail(line, "bad escape in label value");
          } else if (line[j] == '"') {
            closed = true;
            break;
          } else {
            value += line[j];
          }
        }
        if (!closed) {
          fail(line, "unterminated label value");
          break;
        }
        if (s.labels.count(lname)) fail(line, "label " + lname + " twice");
        s.labels[lname] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',')
          ++i;
        else if (i < line.size() && line[i] != '}')
          fail(line, "expected ',' or '}' after a label");
      }
      if (i >= line.size() || line[i] != '}') {
        fail(line, "unterminated label set");
        continue;
      }
      ++i;
    }
    for (const auto& [k, v] : s.labels) canonical += k + "=" + v + ",";
    if (i >= line.size() || line[i] != ' ') {
      fail(line, "no value");
      continue;
    }
    const std::vector<std::string> rest = Split(line.substr(i + 1), ' ');
    if (rest.empty() || rest.size() > 2) fail(line, "expected a value and an optional timestamp");
    auto v = rest.empty() ? std::nullopt : ParsePromValue(rest[0]);
    if (!v) fail(line, "bad value");
    s.value = v.value_or(0);
    if (rest.size() == 2 && !std::regex_match(rest[1], std::regex(R"(-?\d+)"))) fail(line, "bad timestamp");
    if (!series.insert(canonical).second) fail(line, "duplicate series");
    // The family this sample belongs to must be declared by TYPE, and be the current block.
    std::string family = s.name;
    if (!p.types.count(family)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (s.name.size() > sfx.size() && s.name.compare(s.name.size() - sfx.size(), sfx.size(), sfx) == 0) {
          const std::string base = s.name.substr(0, s.name.size() - sfx.size());
          if (p.types.count(base) && (p.types[base] == "histogram" || p.types[base] == "summary")) family = base;
        }
      }
    }
    if (!p.types.count(family)) {
      fail(line, "sample of a family no TYPE declared (before it)");
    } else {
      if (family != current) fail(line, "sample outside its family's block");
      if (p.types[family] == "histogram") {
        if (s.name == family) fail(line, "histogram sample without _bucket/_sum/_count");
        if ((s.name == family + "_bucket") != (s.labels.count("le") == 1)) fail(line, "le label only on _bucket");
      }
    }
    p.samples.push_back(std::move(s));
  }
  // Histograms: per label set, cumulative buckets rising with le, +Inf present and equal to _count.
  for (const auto& [family, type] : p.types) {
    if (type != "histogram") continue;
    struct Series {
      std::vector<std::pair<double, double>> buckets;
      std::optional<double> sum, count;
    };
    std::map<std::string, Series> by_labels;
    for (const auto& s : p.samples) {
      std::string key;
      for (const auto& [k, v] : s.labels) {
        if (k != "le") key += k + "=" + v + ",";
      }
      if (s.name == family + "_bucket") {
        auto le = ParsePromValue(s.labels.at("le"));
        if (!le) p.errors.push_back(family + ": bad le '" + s.labels.at("le") + "'");
        by_labels[key].buckets.emplace_back(le.value_or(0), s.value);
      } else if (s.name == family + "_sum") {
        by_labels[key].sum = s.value;
      } else if (s.name == family + "_count") {
        by_labels[key].count = s.value;
      }
    }
    for (auto& [key, h] : by_labels) {
      const std::string what = family + "{" + key + "}";
      if (!h.sum || !h.count) p.errors.push_back(what + ": missing _sum or _count");
      std::sort(h.buckets.begin(), h.buckets.end());
      if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
        p.errors.push_back(what + ": no le=\"+Inf\" bucket");
        continue;
      }
      for (size_t i = 1; i < h.buckets.size(); ++i) {
        if (h.buckets[i].second < h.buckets[i - 1].second) p.errors.push_back(what + ": buckets not cumulative");
      }
      if (h.count && h.buckets.back().second != *h.count) p.errors.push_back(what + ": +Inf bucket != _count");
    }
  }
  return p;
}

}  // namespace nbaprops::api::prom_text

#endif  // NBAPROPS_API_PROM_TEXT_PARSER_H_
