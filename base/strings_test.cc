#include "base/strings.h"

#include <gtest/gtest.h>

namespace nbaprops {
namespace {

TEST(MarkupEscapeTest, EscapesTheFiveMarkupCharacters) {
  EXPECT_EQ(MarkupEscape(R"(<a href="x">Tom & Jerry's</a>)"),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
  EXPECT_EQ(MarkupEscape("&amp;"), "&amp;amp;");  // escaped text is escaped again, never trusted
}

TEST(MarkupEscapeTest, KeepsLineBreaksAndTabsAsReferences) {
  // In an attribute value a raw newline would be normalized to a space; a reference survives.
  EXPECT_EQ(MarkupEscape("line 1\nline 2\r\n\tend"), "line 1&#10;line 2&#13;&#10;&#9;end");
}

TEST(MarkupEscapeTest, ReplacesControlCharactersXmlForbids) {
  EXPECT_EQ(MarkupEscape(std::string("a\x01"
                                     "b\x1f"
                                     "c\x7f"
                                     "d\0e",
                                     9)),
            "a?b?c?d?e");
}

TEST(MarkupEscapeTest, LeavesUtf8AndPlainTextAlone) {
  EXPECT_EQ(MarkupEscape("Nikola Jokić 26.4"), "Nikola Jokić 26.4");
  EXPECT_EQ(MarkupEscape(""), "");
}

}  // namespace
}  // namespace nbaprops
