// Choosing the points line a prediction is made against, from the pre-tip snapshots of one
// player-game (analytics_upcoming_player_lines).
//
//   * A book may list a ladder of alternate lines in one snapshot; its main line is the one whose
//     over and under prices are closest to even.
//   * Per book, the opening line is the main line of its first snapshot, the latest that of its
//     last one (all snapshots are pre-tip by construction of the table).
//   * The book comes from a configurable chain (default DraftKings > FanDuel > BetMGM > PointsBet
//     > Caesars), then any other book in name order; taking any book but the first is a fallback.
#ifndef NBAPROPS_PIPELINE_LINES_H_
#define NBAPROPS_PIPELINE_LINES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nbaprops::pipeline {

struct LineQuote {
  std::string book, source;
  int64_t captured_at = 0;
  double line = 0;
  std::optional<int64_t> over, under;  // American prices
};

struct BookLines {
  std::string book;
  LineQuote opening, latest;
};

// Implied probability of an American price, without removing the vig: -110 -> 0.5238.
double ImpliedProbability(int64_t american);

// The market's probability of the over with the vig removed: the two implied probabilities
// scaled to sum to 1 (-110 / -110 -> 0.5). None without both prices.
std::optional<double> VigFreeProbOver(const LineQuote& quote);

// The main line of one book's snapshot (all quotes share book and captured_at): prices closest
// to even; quotes without both prices come last; ties go to the lower line.
const LineQuote& MainLine(const std::vector<LineQuote>& ladder);

// Groups snapshots by book (ascending book name) with the opening and latest main lines.
std::vector<BookLines> ByBook(const std::vector<LineQuote>& snapshots);

enum class LinePolicy { kOpening, kLatest };

struct ChosenLine {
  LineQuote quote;        // the line the prediction uses
  bool fallback = false;  // not the first book of the chain
  std::optional<double> consensus, spread_books, movement;
  std::optional<LineQuote> closing;  // the chosen book's latest pre-tip quote, when later than `quote`
};

std::optional<ChosenLine> ChooseLine(const std::vector<BookLines>& books, const std::vector<std::string>& chain,
                                     LinePolicy policy);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_LINES_H_
