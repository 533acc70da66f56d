#include "base/csv.h"

#include <gtest/gtest.h>

namespace nbaprops {
namespace {

TEST(CsvTest, QuotesCommasNewlinesAndLineNumbers) {
  CsvReader r("a,b\r\n\"x, y\",\"he said \"\"hi\"\"\"\n\n\"multi\nline\",2\n");
  CsvRecord rec;
  ASSERT_TRUE(r.Next(&rec));
  EXPECT_EQ(rec.line, 1);
  ASSERT_TRUE(r.Next(&rec));
  EXPECT_EQ(rec.line, 2);
  EXPECT_EQ(rec.fields[0], "x, y");
  EXPECT_EQ(rec.fields[1], "he said \"hi\"");
  ASSERT_TRUE(r.Next(&rec));
  EXPECT_EQ(rec.line, 4);
  EXPECT_EQ(rec.fields[0], "multi\nline");
  EXPECT_FALSE(r.Next(&rec));
}

TEST(CsvTest, UnterminatedQuoteIsReportedNotSwallowed) {
  CsvReader r("a,b\n1,\"oops\n");
  CsvRecord rec;
  ASSERT_TRUE(r.Next(&rec));
  ASSERT_TRUE(r.Next(&rec));
  EXPECT_FALSE(rec.error.empty());
}

TEST(CsvTest, BomAndHeaderLookup) {
  CsvReader r("\xEF\xBB\xBFGame_ID, Points\n1,2\n");
  CsvRecord rec;
  ASSERT_TRUE(r.Next(&rec));
  CsvHeader h(rec.fields);
  EXPECT_EQ(h.Index("game_id"), 0);
  EXPECT_EQ(h.Index("points"), 1);
  EXPECT_EQ(h.Index("minutes"), -1);
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
}

}  // namespace
}  // namespace nbaprops
