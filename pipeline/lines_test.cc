#include "pipeline/lines.h"

#include <gtest/gtest.h>

namespace nbaprops::pipeline {
namespace {

LineQuote Q(const std::string& book, int64_t at, double line, std::optional<int64_t> over,
            std::optional<int64_t> under) {
  return {book, "test", at, line, over, under};
}

TEST(Lines, VigFreeProbOverRemovesTheVig) {
  LineQuote q;
  EXPECT_FALSE(VigFreeProbOver(q));
  q.over = -110;
  EXPECT_FALSE(VigFreeProbOver(q));
  q.under = -110;
  EXPECT_DOUBLE_EQ(*VigFreeProbOver(q), 0.5);
  q.over = -150;  // 0.6 and 0.5238 implied: 0.6 / 1.1238
  q.under = -110;
  EXPECT_NEAR(*VigFreeProbOver(q), 0.6 / (0.6 + 110.0 / 210), 1e-12);
}

TEST(Lines, ImpliedProbability) {
  EXPECT_NEAR(ImpliedProbability(-110), 0.5238, 1e-4);
  EXPECT_NEAR(ImpliedProbability(+150), 0.4, 1e-9);
  EXPECT_NEAR(ImpliedProbability(-200), 2.0 / 3.0, 1e-9);
}

TEST(Lines, MainLineOfALadderIsTheOneClosestToEvenPrices) {
  std::vector<LineQuote> ladder = {Q("draftkings", 100, 22.5, -250, +190), Q("draftkings", 100, 24.5, -150, +120),
                                   Q("draftkings", 100, 25.5, -110, -110), Q("draftkings", 100, 26.5, +130, -160),
                                   Q("draftkings", 100, 28.5, +220, -300)};
  EXPECT_EQ(MainLine(ladder).line, 25.5);
  // A rung without prices never wins over a priced one.
  ladder.push_back(Q("draftkings", 100, 25.0, std::nullopt, std::nullopt));
  EXPECT_EQ(MainLine(ladder).line, 25.5);
}

TEST(Lines, ByBookKeepsOpeningAndLatestMainLines) {
  std::vector<LineQuote> s = {Q("fanduel", 100, 20.5, -110, -110), Q("fanduel", 200, 21.5, -115, -105),
                              Q("fanduel", 200, 19.5, -180, +150), Q("draftkings", 150, 20.5, -110, -110)};
  auto books = ByBook(s);
  ASSERT_EQ(books.size(), 2u);
  EXPECT_EQ(books[0].book, "draftkings");
  EXPECT_EQ(books[1].opening.line, 20.5);
  EXPECT_EQ(books[1].latest.line, 21.5);
}

TEST(Lines, ChainPicksTheFirstAvailableBookAndFlagsFallback) {
  const std::vector<std::string> chain = {"draftkings", "fanduel", "betmgm"};
  std::vector<LineQuote> s = {Q("betmgm", 100, 18.5, -110, -110), Q("fanduel", 100, 19.5, -110, -110),
                              Q("fanduel", 300, 20.5, -110, -110)};
  auto c = ChooseLine(ByBook(s), chain, LinePolicy::kOpening);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->quote.book, "fanduel");
  EXPECT_TRUE(c->fallback);
  EXPECT_EQ(c->quote.line, 19.5);
  ASSERT_TRUE(c->closing);
  EXPECT_EQ(c->closing->line, 20.5);
  EXPECT_EQ(*c->consensus, 19.0);     // median of opening lines 18.5 and 19.5
  EXPECT_EQ(*c->spread_books, 1.0);
  EXPECT_EQ(*c->movement, 0.0);

  auto latest = ChooseLine(ByBook(s), chain, LinePolicy::kLatest);
  EXPECT_EQ(latest->quote.line, 20.5);
  EXPECT_EQ(*latest->movement, 1.0);
  EXPECT_FALSE(latest->closing);

  s.push_back(Q("draftkings", 100, 19.0, -110, -110));
  EXPECT_FALSE(ChooseLine(ByBook(s), chain, LinePolicy::kOpening)->fallback);
  // No book of the chain: any book, by name, is a fallback.
  auto any = ChooseLine(ByBook({Q("caesars", 1, 10.5, -110, -110), Q("bet365", 1, 11.5, -110, -110)}), chain,
                        LinePolicy::kOpening);
  EXPECT_EQ(any->quote.book, "bet365");
  EXPECT_TRUE(any->fallback);
  EXPECT_FALSE(ChooseLine({}, chain, LinePolicy::kOpening));
}

}  // namespace
}  // namespace nbaprops::pipeline
