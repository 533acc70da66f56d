#include "pipeline/lines.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace nbaprops::pipeline {

double ImpliedProbability(int64_t american) {
  if (american < 0) return static_cast<double>(-american) / static_cast<double>(-american + 100);
  return 100.0 / static_cast<double>(american + 100);
}

std::optional<double> VigFreeProbOver(const LineQuote& q) {
  if (!q.over || !q.under) return std::nullopt;
  const double over = ImpliedProbability(*q.over), under = ImpliedProbability(*q.under);
  return over / (over + under);
}

namespace {
double DistanceFromEven(const LineQuote& q) {
  if (!q.over || !q.under) return 1e9;
  return std::abs(ImpliedProbability(*q.over) - ImpliedProbability(*q.under));
}
}  // namespace

const LineQuote& MainLine(const std::vector<LineQuote>& ladder) {
  return *std::min_element(ladder.begin(), ladder.end(), [](const LineQuote& a, const LineQuote& b) {
    double da = DistanceFromEven(a), db = DistanceFromEven(b);
    if (da != db) return da < db;
    return a.line < b.line;
  });
}

std::vector<BookLines> ByBook(const std::vector<LineQuote>& snapshots) {
  std::map<std::string, std::map<int64_t, std::vector<LineQuote>>> by_book;
  for (const LineQuote& q : snapshots) by_book[q.book][q.captured_at].push_back(q);
  std::vector<BookLines> out;
  for (auto& [book, times] : by_book) {
    out.push_back({book, MainLine(times.begin()->second), MainLine(times.rbegin()->second)});
  }
  return out;
}

std::optional<ChosenLine> ChooseLine(const std::vector<BookLines>& books, const std::vector<std::string>& chain,
                                     LinePolicy policy) {
  if (books.empty()) return std::nullopt;
  const BookLines* pick = nullptr;
  size_t rank = 0;
  for (; rank < chain.size() && !pick; ++rank) {
    for (const BookLines& b : books) {
      if (b.book == chain[rank]) pick = &b;
    }
  }
  bool fallback = !pick || rank > 1;
  if (!pick) pick = &books.front();  // any book: ByBook orders them by name

  auto quote = [&](const BookLines& b) -> const LineQuote& {
    return policy == LinePolicy::kOpening ? b.opening : b.latest;
  };
  ChosenLine c{quote(*pick), fallback, {}, {}, {}, {}};
  std::vector<double> lines;
  for (const BookLines& b : books) lines.push_back(quote(b).line);
  std::sort(lines.begin(), lines.end());
  size_t n = lines.size();
  c.consensus = n % 2 ? lines[n / 2] : (lines[n / 2 - 1] + lines[n / 2]) / 2;
  c.spread_books = lines.back() - lines.front();
  c.movement = quote(*pick).line - pick->opening.line;
  if (pick->latest.captured_at > c.quote.captured_at) c.closing = pick->latest;
  return c;
}

}  // namespace nbaprops::pipeline
