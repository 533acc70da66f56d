#include "pipeline/player_names.h"

#include <utf8proc.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace nbaprops::pipeline {
namespace {

struct NameAlias {
  std::string_view from;
  std::string_view to;
};

// First names that feeds use interchangeably with the formal first name of the same current
// player. Only the first word is replaced, and only in the nickname key. A short name shared by
// several formal names is left out on purpose, because mapping it would merge different people:
// "Moe" in NBA data is Moritz Wagner, not a Mohamed (see kFullNameAliases), and "Nate" may stand
// for Nathan or Nathaniel depending on the player.
constexpr NameAlias kNicknames[] = {
    // Herbert Jones (NOP) appears as "Herbert Jones" in official box scores and as "Herb Jones"
    // in sportsbook props and most media.
    {"herb", "herbert"},
    // Nicolas Claxton (BKN) appears as "Nic Claxton" and as "Nicolas Claxton" (older rosters);
    // Nicolas Batum appears both ways too.
    {"nic", "nicolas"},
    // Carlton "Bub" Carrington (WAS, 2024 draft) is listed as "Bub Carrington" in league data
    // and as "Carlton Carrington" in draft and some sportsbook data.
    {"bub", "carlton"},
    // Cam Thomas, Cam Johnson, Cam Reddish, Cam Whitmore, Cameron Payne: each is spelled "Cam"
    // in some feeds and "Cameron" in others, and no feed is consistent across these players.
    {"cam", "cameron"},
};

// Whole names (normalized no_suffix keys) that stand for a differently named player; the target
// is the no_suffix key of the other spelling. Used when the first name is not a generic
// nickname, so kNicknames would be wrong for other players. Xavier Tillman, listed both with and
// without "Sr.", needs no entry: the suffix rule already gives "xavier tillman".
constexpr NameAlias kFullNameAliases[] = {
    // Kenyon Martin Jr. (LAC, PHI in 2023-24) is listed as "KJ Martin" in recent data and as
    // "Kenyon Martin Jr." in older rows, whose no_suffix key is "kenyon martin".
    {"kj martin", "kenyon martin"},
    // Nah'Shon "Bones" Hyland (LAC): listed as "Bones Hyland" in league data and props, by his
    // given name elsewhere (the apostrophe folds away: "nahshon").
    {"bones hyland", "nahshon hyland"},
    // GG Jackson II (MEM, 2023-24 rookie) was born Gregory Jackson; some rosters use it.
    {"gg jackson", "gregory jackson"},
    // Moritz Wagner (ORL) is "Moritz Wagner" in box scores and often "Moe Wagner" in props.
    {"moe wagner", "moritz wagner"},
};

// Generational suffixes, as the last word of a folded name.
constexpr std::string_view kSuffixes[] = {"jr", "sr", "ii", "iii", "iv", "v"};

// One utf8proc_decompose_char call per non-ASCII code point, not utf8proc_map per name:
// utf8proc_map mallocs and rejects invalid UTF-8 outright, and most names are pure ASCII and
// never reach utf8proc. COMPAT turns NBSP and fullwidth letters into ASCII, IGNORE drops
// zero-width spaces, soft hyphens and BOMs, LUMP maps every dash to '-' and every space to ' '.
constexpr utf8proc_option_t kFoldOptions =
    static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD |
                                   UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP);

// The longest full decomposition in Unicode (U+FDFA) is 18 code points.
constexpr utf8proc_ssize_t kMaxDecomposition = 32;

// Windows-1252 code points for bytes 0x80-0x9F; 0 where Windows-1252 leaves the byte undefined.
constexpr char32_t kWindows1252High[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  // 0x80
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,       // 0x88
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  // 0x90
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,  // 0x98
};

char32_t FromWindows1252(unsigned char b) {
  if (b >= 0x80 && b < 0xA0) return kWindows1252High[b - 0x80];
  return b;  // ASCII and 0xA0-0xFF coincide with Latin-1 / Unicode.
}

// Returns the length (1-4) of the well-formed UTF-8 sequence starting at s[i] and stores its
// code point in *cp, or returns 0 when the bytes there are not well-formed.
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  size_t len;
  char32_t c;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    c = b0 & 0x0F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    c = b0 & 0x07;
  } else {
    return 0;  // Continuation byte, C0/C1 (always overlong) or F5-FF (beyond U+10FFFF).
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    c = (c << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (c < kMinForLength[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
  *cp = c;
  return len;
}

// Apostrophe look-alikes are deleted rather than left to utf8proc: COMPAT would turn the acute
// accent U+00B4 ("De´Aaron") into a space and split the word.
bool IsApostrophe(char32_t c) {
  switch (c) {
    case 0x00B4:  // ´ acute accent
    case 0x02BB:  // ʻ modifier letter turned comma
    case 0x02BC:  // ʼ modifier letter apostrophe
    case 0x2018:  // ‘
    case 0x2019:  // ’
    case 0x201B:  // ‛
    case 0x2032:  // ′ prime
      return true;
    default:
      return false;
  }
}

// Letters that have no Unicode decomposition, so utf8proc leaves them alone, with the ASCII
// spelling feeds use for them (Jørgensen, Łukasz, Đorđe, Turkish dotless ı, ...). Upper-case
// forms never get here: case folding already lowered them.
struct Transliteration {
  char32_t letter;
  std::string_view ascii;
};
constexpr Transliteration kTransliterations[] = {
    {0x00E6, "ae"},  // æ
    {0x00F0, "d"},   // ð
    {0x00F8, "o"},   // ø
    {0x00FE, "th"},  // þ
    {0x0111, "d"},   // đ
    {0x0131, "i"},   // ı
    {0x0142, "l"},   // ł
    {0x0153, "oe"},  // œ
};

std::string_view Transliterate(utf8proc_int32_t c) {
  for (const Transliteration& t : kTransliterations) {
    if (static_cast<char32_t>(c) == t.letter) return t.ascii;
  }
  return {};
}

// Appends one ASCII character to `words`, which holds lower-case words separated by single
// spaces (possibly with one trailing space while building).
void AppendAscii(unsigned char c, std::string* words) {
  if (c >= 'A' && c <= 'Z') {
    words->push_back(static_cast<char>(c - 'A' + 'a'));
  } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
    words->push_back(static_cast<char>(c));
  } else if (c == '\'' || c == '`' || c == '.') {
    // Deleted, joining its neighbours: "O'Neale" -> "oneale", "C.J." -> "cj".
  } else if (!words->empty() && words->back() != ' ') {
    words->push_back(' ');  // Whitespace, hyphen, comma, any other punctuation.
  }
}

void AppendNonAscii(char32_t cp, std::string* words) {
  if (IsApostrophe(cp)) return;
  utf8proc_int32_t folded[kMaxDecomposition];
  int boundclass = UTF8PROC_BOUNDCLASS_START;
  const utf8proc_ssize_t n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), folded,
                                                     kMaxDecomposition, kFoldOptions, &boundclass);
  if (n < 0 || n > kMaxDecomposition) return;  // Not foldable: dropped.
  for (utf8proc_ssize_t k = 0; k < n; ++k) {
    const utf8proc_int32_t c = folded[k];
    if (c >= 0 && c < 0x80) {
      AppendAscii(static_cast<unsigned char>(c), words);
    } else {
      for (char t : Transliterate(c)) AppendAscii(static_cast<unsigned char>(t), words);
    }
  }
}

// Joins runs of one-letter words in place ("c j mccollum" -> "cj mccollum") so that "C. J.",
// "C.J." and "CJ" meet. Digits are not initials.
void MergeInitials(std::string* words) {
  std::string& w = *words;
  size_t out = 0;
  bool prev_initial = false;
  for (size_t start = 0; start < w.size();) {
    size_t end = w.find(' ', start);
    if (end == std::string::npos) end = w.size();
    const bool initial = end - start == 1 && w[start] >= 'a' && w[start] <= 'z';
    if (out > 0 && !(initial && prev_initial)) w[out++] = ' ';
    for (size_t k = start; k < end; ++k) w[out++] = w[k];
    prev_initial = initial;
    start = end + 1;
  }
  w.resize(out);
}

bool IsSuffix(std::string_view word) {
  for (std::string_view s : kSuffixes) {
    if (word == s) return true;
  }
  return false;
}

std::string NicknameKey(const std::string& no_suffix) {
  for (const NameAlias& a : kFullNameAliases) {
    if (no_suffix == a.from) return std::string(a.to);
  }
  const size_t space = no_suffix.find(' ');
  if (space == std::string::npos) return no_suffix;  // A lone word is not known to be a first name.
  const std::string_view first = std::string_view(no_suffix).substr(0, space);
  for (const NameAlias& a : kNicknames) {
    if (first == a.from) {
      std::string key(a.to);
      key.append(no_suffix, space, std::string::npos);
      return key;
    }
  }
  return no_suffix;
}

}  // namespace

NameKeys MakeNameKeys(std::string_view name) {
  std::string words;
  words.reserve(name.size());
  for (size_t i = 0; i < name.size();) {
    const auto b = static_cast<unsigned char>(name[i]);
    if (b < 0x80) {
      AppendAscii(b, &words);
      ++i;
      continue;
    }
    char32_t cp;
    size_t len = DecodeUtf8(name, i, &cp);
    if (len == 0) {
      cp = FromWindows1252(b);
      len = 1;
    }
    if (cp != 0) AppendNonAscii(cp, &words);
    i += len;
  }
  if (!words.empty() && words.back() == ' ') words.pop_back();
  MergeInitials(&words);

  NameKeys keys;
  const size_t last_space = words.rfind(' ');
  // The suffix goes only when two words remain, so "J.R. Smith" and a lone "Jr" survive.
  const bool strip_suffix = last_space != std::string::npos && last_space > 0 &&
                            IsSuffix(std::string_view(words).substr(last_space + 1)) &&
                            words.rfind(' ', last_space - 1) != std::string::npos;
  keys.no_suffix = strip_suffix ? words.substr(0, last_space) : words;
  keys.nickname = NicknameKey(keys.no_suffix);
  keys.full = std::move(words);
  return keys;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    char32_t cp;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string EscapeInvalidUtf8(std::string_view s) {
  if (IsValidUtf8(s)) return std::string(s);
  std::string out;
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t len = static_cast<unsigned char>(s[i]) < 0x80 ? 1 : DecodeUtf8(s, i, &cp);
    if (len > 0) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned char>(s[i]));
    out += buf;
    ++i;
  }
  return out;
}

}  // namespace nbaprops::pipeline
