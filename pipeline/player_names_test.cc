#include "pipeline/player_names.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nbaprops::pipeline {
namespace {

std::string Full(std::string_view name) { return MakeNameKeys(name).full; }
std::string NoSuffix(std::string_view name) { return MakeNameKeys(name).no_suffix; }
std::string Nickname(std::string_view name) { return MakeNameKeys(name).nickname; }

// The documented invariant: empty, or [a-z0-9]+ words joined by single spaces.
bool IsWellFormedKey(const std::string& key) {
  if (key.empty()) return true;
  if (key.front() == ' ' || key.back() == ' ') return false;
  for (size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c == ' ') {
      if (key[i + 1] == ' ') return false;
    } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

void ExpectInvariants(std::string_view name) {
  const NameKeys k = MakeNameKeys(name);
  SCOPED_TRACE(testing::Message() << "name bytes: " << testing::PrintToString(std::string(name)));
  EXPECT_TRUE(IsWellFormedKey(k.full)) << k.full;
  EXPECT_TRUE(IsWellFormedKey(k.no_suffix)) << k.no_suffix;
  EXPECT_TRUE(IsWellFormedKey(k.nickname)) << k.nickname;
  EXPECT_EQ(k.full.compare(0, k.no_suffix.size(), k.no_suffix), 0)
      << "no_suffix must be a prefix of full";
}

TEST(PlayerNamesTest, FoldsDiacritics) {
  EXPECT_EQ(Full("Luka Dončić"), "luka doncic");
  EXPECT_EQ(Full("Luka Dončić"), Full("Luka Doncic"));
  EXPECT_EQ(Full("Nikola Jokić"), Full("Nikola Jokic"));
  EXPECT_EQ(Full("Nikola Jokić"), "nikola jokic");
  EXPECT_EQ(Full("Bogdan Bogdanović"), "bogdan bogdanovic");
  EXPECT_EQ(Full("Dāvis Bertāns"), "davis bertans");
  EXPECT_EQ(Full("Jusuf Nurkić"), "jusuf nurkic");
  EXPECT_EQ(Full("Kristaps Porziņģis"), "kristaps porzingis");
  EXPECT_EQ(Full("Dennis Schröder"), "dennis schroder");
  EXPECT_EQ(Full("Alperen Şengün"), "alperen sengun");
  EXPECT_EQ(Full("Ömer Yurtseven"), "omer yurtseven");
  EXPECT_EQ(Full("Ersan İlyasova"), "ersan ilyasova");
}

TEST(PlayerNamesTest, FoldsCaseIncludingNonAscii) {
  EXPECT_EQ(Full("LUKA DONČIĆ"), "luka doncic");
  EXPECT_EQ(Full("ŁUKASZ JØRGENSEN"), "lukasz jorgensen");
}

TEST(PlayerNamesTest, TransliteratesLettersWithoutDecomposition) {
  EXPECT_EQ(Full("Łukasz Jørgensen"), "lukasz jorgensen");
  EXPECT_EQ(Full("Đorđe Kılıç"), "dorde kilic");
  EXPECT_EQ(Full("Æther Œuvre"), "aether oeuvre");
}

TEST(PlayerNamesTest, DropsNonAsciiThatCannotFold) {
  EXPECT_EQ(Full("Luka 東Doncic"), "luka doncic");
  EXPECT_EQ(Full("Luka Дончич"), "luka");
  EXPECT_EQ(Full("Luka Doncic ★"), "luka doncic");
}

TEST(PlayerNamesTest, UnicodeSpacesAndInvisibleCharacters) {
  EXPECT_EQ(Full("Luka\u00A0Doncic"), "luka doncic");   // no-break space
  EXPECT_EQ(Full("Luka\u2009Doncic"), "luka doncic");   // thin space
  EXPECT_EQ(Full("\uFEFFLuka Doncic"), "luka doncic");  // BOM at the start of a CSV field
  EXPECT_EQ(Full("Luka Don\u200Bcic"), "luka doncic");  // zero-width space
  EXPECT_EQ(Full("Luka Don\u00ADcic"), "luka doncic");  // soft hyphen
  EXPECT_EQ(Full("\uFF2C\uFF55\uFF4B\uFF41 Doncic"), "luka doncic");  // fullwidth "Ｌｕｋａ"
}

TEST(PlayerNamesTest, RemovesEveryApostropheKind) {
  const std::string want = "deanthony melton";
  EXPECT_EQ(Full("De'Anthony Melton"), want);
  EXPECT_EQ(Full("De\u2019Anthony Melton"), want);  // ’
  EXPECT_EQ(Full("De\u2018Anthony Melton"), want);  // ‘
  EXPECT_EQ(Full("De`Anthony Melton"), want);
  EXPECT_EQ(Full("De\u00B4Anthony Melton"), want);  // ´
  EXPECT_EQ(Full("De\u02BCAnthony Melton"), want);  // ʼ
  EXPECT_EQ(Full("DeAnthony Melton"), want);
  EXPECT_EQ(Full("Royce O'Neale"), "royce oneale");
  EXPECT_EQ(Full("Day’Ron Sharpe"), "dayron sharpe");
}

TEST(PlayerNamesTest, RemovesPeriodsAndMergesInitials) {
  EXPECT_EQ(Full("C.J. McCollum"), "cj mccollum");
  EXPECT_EQ(Full("CJ McCollum"), "cj mccollum");
  EXPECT_EQ(Full("C. J. McCollum"), "cj mccollum");
  EXPECT_EQ(Full("C J McCollum"), "cj mccollum");
  EXPECT_EQ(Full("P.J. Washington"), Full("PJ Washington"));
  EXPECT_EQ(Full("R.J. Barrett"), Full("RJ Barrett"));
  EXPECT_EQ(Full("T.J. McConnell"), Full("TJ McConnell"));
  EXPECT_EQ(Full("A.J. Green"), Full("AJ Green"));
  EXPECT_EQ(Full("O.G. Anunoby"), "og anunoby");
  EXPECT_EQ(Full("OG Anunoby"), "og anunoby");
}

TEST(PlayerNamesTest, SingleMiddleInitialStaysAWord) {
  EXPECT_EQ(Full("Kevin L. Porter"), "kevin l porter");
}

TEST(PlayerNamesTest, HyphenAndSpaceGiveTheSameKey) {
  EXPECT_EQ(Full("Karl-Anthony Towns"), "karl anthony towns");
  EXPECT_EQ(Full("Karl Anthony Towns"), "karl anthony towns");
  EXPECT_EQ(Full("Karl\u2013Anthony Towns"), "karl anthony towns");  // en dash
  EXPECT_EQ(Full("Karl\u2010Anthony Towns"), "karl anthony towns");  // Unicode hyphen
  EXPECT_EQ(Full("Shai Gilgeous-Alexander"), Full("Shai Gilgeous Alexander"));
  EXPECT_EQ(Full("Kentavious Caldwell-Pope"), Full("Kentavious Caldwell Pope"));
  EXPECT_EQ(Full("Nickeil Alexander-Walker"), Full("Nickeil Alexander Walker"));
}

TEST(PlayerNamesTest, HyphenatedNameKeepsItsLastWordWhenNoSuffix) {
  EXPECT_EQ(NoSuffix("Shai Gilgeous-Alexander"), "shai gilgeous alexander");
}

TEST(PlayerNamesTest, SuffixWithOrWithoutPeriodOrComma) {
  EXPECT_EQ(Full("Craig Porter Jr"), "craig porter jr");
  EXPECT_EQ(Full("Craig Porter Jr."), "craig porter jr");
  EXPECT_EQ(Full("Craig Porter, Jr."), "craig porter jr");
  EXPECT_EQ(Full("Craig Porter,Jr."), "craig porter jr");
  EXPECT_EQ(NoSuffix("Craig Porter Jr."), "craig porter");
}

TEST(PlayerNamesTest, SuffixDroppedOnlyFromNoSuffix) {
  const NameKeys with = MakeNameKeys("Derrick Jones Jr.");
  const NameKeys without = MakeNameKeys("Derrick Jones");
  EXPECT_EQ(with.full, "derrick jones jr");
  EXPECT_EQ(without.full, "derrick jones");
  EXPECT_NE(with.full, without.full);
  EXPECT_EQ(with.no_suffix, without.no_suffix);
  EXPECT_EQ(with.nickname, without.nickname);
}

TEST(PlayerNamesTest, EveryGenerationalSuffix) {
  EXPECT_EQ(NoSuffix("Jaren Jackson Jr."), "jaren jackson");
  EXPECT_EQ(NoSuffix("Gary Trent Jr."), "gary trent");
  EXPECT_EQ(NoSuffix("Kelly Oubre Jr."), "kelly oubre");
  EXPECT_EQ(NoSuffix("Tim Hardaway Jr."), "tim hardaway");
  EXPECT_EQ(NoSuffix("Marcus Morris Sr."), "marcus morris");
  EXPECT_EQ(NoSuffix("Xavier Tillman Sr."), NoSuffix("Xavier Tillman"));
  EXPECT_EQ(NoSuffix("Gary Payton II"), "gary payton");
  EXPECT_EQ(NoSuffix("Marvin Bagley III"), "marvin bagley");
  EXPECT_EQ(NoSuffix("Trey Murphy III"), "trey murphy");
  EXPECT_EQ(NoSuffix("Lonnie Walker IV"), "lonnie walker");
  EXPECT_EQ(NoSuffix("John Smith V"), "john smith");
  EXPECT_EQ(Full("Trey Murphy III"), "trey murphy iii");
}

TEST(PlayerNamesTest, SuffixNeedsTwoOtherWords) {
  // "J.R." is a first name, not a suffix.
  const NameKeys jr = MakeNameKeys("J.R. Smith");
  EXPECT_EQ(jr.full, "jr smith");
  EXPECT_EQ(jr.no_suffix, "jr smith");
  EXPECT_EQ(jr.nickname, "jr smith");
  EXPECT_EQ(NoSuffix("J. R. Smith"), "jr smith");
  EXPECT_EQ(NoSuffix("Smith Jr."), "smith jr");
  EXPECT_EQ(NoSuffix("Jr"), "jr");
  EXPECT_EQ(NoSuffix("Malik Monk V."), "malik monk");
}

TEST(PlayerNamesTest, LastNameFirstIsNotReordered) {
  EXPECT_EQ(Full("Jones, Derrick Jr."), "jones derrick jr");
  EXPECT_EQ(NoSuffix("Jones, Derrick Jr."), "jones derrick");
}

TEST(PlayerNamesTest, SuffixOnlyAsLastWord) {
  EXPECT_EQ(NoSuffix("Jr Smith Jones"), "jr smith jones");
  EXPECT_EQ(NoSuffix("Ivan Iv Rabb"), "ivan iv rabb");
}

TEST(PlayerNamesTest, NicknameFirstNames) {
  EXPECT_EQ(Nickname("Herb Jones"), Nickname("Herbert Jones"));
  EXPECT_EQ(Nickname("Herb Jones"), "herbert jones");
  EXPECT_NE(Full("Herb Jones"), Full("Herbert Jones"));
  EXPECT_EQ(NoSuffix("Herb Jones"), "herb jones");  // nickname key only
  EXPECT_EQ(Nickname("Nic Claxton"), Nickname("Nicolas Claxton"));
  EXPECT_EQ(Nickname("Bub Carrington"), Nickname("Carlton Carrington"));
  EXPECT_EQ(Nickname("Cam Thomas"), "cameron thomas");
  EXPECT_EQ(Nickname("Cam Johnson"), Nickname("Cameron Johnson"));
  EXPECT_EQ(Nickname("Cam Reddish"), Nickname("Cameron Reddish"));
}

TEST(PlayerNamesTest, NicknameReplacesOnlyTheFirstWordOfAMultiWordName) {
  EXPECT_EQ(Nickname("Alex Cam"), "alex cam");
  EXPECT_EQ(Nickname("Herb"), "herb");
  EXPECT_EQ(Nickname("Herbie Jones"), "herbie jones");
  EXPECT_EQ(Nickname("Luka Doncic"), "luka doncic");
}

TEST(PlayerNamesTest, NicknameAppliesAfterSuffixRemoval) {
  EXPECT_EQ(Nickname("Herb Jones Jr."), "herbert jones");
}

TEST(PlayerNamesTest, FullNameAliases) {
  EXPECT_EQ(Nickname("KJ Martin"), Nickname("Kenyon Martin Jr."));
  EXPECT_EQ(Nickname("K.J. Martin"), "kenyon martin");
  EXPECT_EQ(Nickname("Bones Hyland"), Nickname("Nah'Shon Hyland"));
  EXPECT_EQ(Nickname("Bones Hyland"), "nahshon hyland");
  EXPECT_EQ(Nickname("GG Jackson II"), Nickname("Gregory Jackson"));
  EXPECT_EQ(Nickname("G.G. Jackson"), "gregory jackson");
  EXPECT_EQ(Nickname("Moe Wagner"), Nickname("Moritz Wagner"));
  // The alias does not leak into the stricter keys.
  EXPECT_EQ(NoSuffix("KJ Martin"), "kj martin");
  // Aliases match whole names only.
  EXPECT_EQ(Nickname("KJ Martinez"), "kj martinez");
  EXPECT_EQ(Nickname("Moe Harkless"), "moe harkless");
}

TEST(PlayerNamesTest, CollapsesWhitespace) {
  EXPECT_EQ(Full("  Luka \t  Doncic  \n"), "luka doncic");
  EXPECT_EQ(Full("Luka\r\nDoncic"), "luka doncic");
  EXPECT_EQ(Full(" - Luka -- Doncic - "), "luka doncic");
  EXPECT_EQ(Full("Nah'Shon \"Bones\" Hyland"), "nahshon bones hyland");
}

TEST(PlayerNamesTest, EmptyAndPunctuationOnly) {
  for (std::string_view name : {"", " ", "\t\n", "'.-,", "\u2019"}) {
    const NameKeys k = MakeNameKeys(name);
    EXPECT_EQ(k.full, "");
    EXPECT_EQ(k.no_suffix, "");
    EXPECT_EQ(k.nickname, "");
  }
}

TEST(PlayerNamesTest, EmbeddedNulIsASeparator) {
  EXPECT_EQ(Full(std::string_view("Luka\0Doncic", 11)), "luka doncic");
}

TEST(PlayerNamesTest, InvalidUtf8IsReadAsWindows1252) {
  // ÿ folds to y, þ transliterates to th.
  EXPECT_EQ(Full(std::string("\xff\xfe") + "abc"), "ythabc");
  EXPECT_EQ(Full("Jos\xe9 Calder\xf3n"), "jose calderon");                // Latin-1 é, ó
  EXPECT_EQ(Full(std::string("Dario \x8a") + "ari\x9a"), "dario saris");  // Windows-1252 Š, š
  EXPECT_EQ(Full(std::string("De\x92") + "Anthony Melton"), "deanthony melton");  // Windows-1252 ’
  EXPECT_EQ(Full(std::string("Karl\x96") + "Anthony Towns"),
            "karl anthony towns");                                     // Windows-1252 en dash
  EXPECT_EQ(Full(std::string("Luka\xa0") + "Doncic"), "luka doncic");  // Latin-1 no-break space
  EXPECT_EQ(Full("Luka\x81\x8d\x8f\x90\x9d Doncic"), "luka doncic");   // undefined: dropped
}

TEST(PlayerNamesTest, InvalidUtf8MixedWithValid) {
  // Valid č, then a truncated sequence whose lead byte is read as Windows-1252 Ä.
  EXPECT_EQ(Full(std::string("Luka Don\xc4\x8d") + "ic\xc4"), "luka doncica");
  // Overlong "/" (C0 AF): both bytes are Windows-1252 (À and ¯, which folds to a space).
  EXPECT_EQ(Full(std::string("ab\xc0\xaf") + "cd"), "aba cd");
  // Encoded surrogate: three Windows-1252 characters í, non-breaking space and € (dropped).
  EXPECT_EQ(Full(std::string("a\xed\xa0\x80") + "b"), "ai b");
}

TEST(PlayerNamesTest, IsValidUtf8AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Luka Doncic"));
  EXPECT_TRUE(IsValidUtf8(std::string_view("a\0b", 3)));
  EXPECT_TRUE(IsValidUtf8("Luka Dončić"));       // 2-byte
  EXPECT_TRUE(IsValidUtf8("De\u2019Anthony"));   // 3-byte
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x8F\x80"));  // 4-byte U+1F3C0
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, just above surrogates
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
}

TEST(PlayerNamesTest, IsValidUtf8RejectsBadBytes) {
  EXPECT_FALSE(IsValidUtf8(std::string("\xff\xfe") + "abc"));
  EXPECT_FALSE(IsValidUtf8("\x80"));     // stray continuation
  EXPECT_FALSE(IsValidUtf8("abc\xBF"));  // stray continuation at the end
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800 surrogate
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF surrogate
  EXPECT_FALSE(IsValidUtf8("Jos\xe9"));           // Latin-1
}

TEST(PlayerNamesTest, IsValidUtf8RejectsOverlongEncodings) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // "/" in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // U+007F in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // NUL in 2 bytes (modified UTF-8)
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // "/" in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // "/" in 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(PlayerNamesTest, IsValidUtf8RejectsTruncatedSequences) {
  EXPECT_FALSE(IsValidUtf8("\xC4"));
  EXPECT_FALSE(IsValidUtf8("Don\xC4"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x8F"));
  EXPECT_FALSE(IsValidUtf8(std::string("\xC4") + "a"));  // continuation replaced by ASCII
  EXPECT_FALSE(IsValidUtf8(std::string("\xE2\x80") + "a"));
}

TEST(PlayerNamesTest, KeysAreWellFormedForAnyBytes) {
  const std::vector<std::string> names = {"Luka Dončić",
                                          "De’Anthony Melton",
                                          "C. J. McCollum",
                                          "Derrick Jones Jr.",
                                          "J.R. Smith",
                                          "Karl-Anthony Towns",
                                          "  ",
                                          std::string("\xff\xfe") + "abc",
                                          "\uFDFA",
                                          "ǅemal",
                                          "½ Jr",
                                          "A B C D Jr"};
  for (const std::string& name : names) ExpectInvariants(name);

  // Deterministic pseudo-random byte strings, biased towards bytes that start or continue
  // multi-byte sequences, to shake out decoder edge cases.
  uint32_t state = 12345;
  auto next = [&state] {
    state = state * 1664525u + 1013904223u;
    return state >> 24;
  };
  for (int n = 0; n < 5000; ++n) {
    std::string bytes(next() % 24, '\0');
    for (char& c : bytes) {
      const uint32_t r = next();
      c = static_cast<char>(r < 96 ? r : 0x80 | (r & 0x7F));
    }
    ExpectInvariants(bytes);
  }
}

TEST(PlayerNamesTest, MergedInitialsDoNotHideSuffixRule) {
  EXPECT_EQ(Full("A B C D Jr"), "abcd jr");
  EXPECT_EQ(NoSuffix("A B C D Jr"), "abcd jr");
}

}  // namespace
}  // namespace nbaprops::pipeline
