// Player-name keys for matching the same player across sources (box scores, injury reports,
// sportsbook props) that spell names differently: "Luka Dončić" vs "Luka Doncic",
// "De’Anthony Melton" vs "DeAnthony Melton", "C.J. McCollum" vs "CJ McCollum",
// "Derrick Jones Jr." vs "Derrick Jones", "Herb Jones" vs "Herbert Jones".
//
// Pure functions, thread-safe, no I/O. Callers compare keys of the same kind (full with full,
// nickname with nickname), strictest first, and accept a looser match only when it is unique.
//
// Invariants of every NameKeys: each key is empty or lower-case ASCII words ([a-z0-9]+) joined
// by single spaces, with no leading or trailing space; no_suffix is full or a prefix of it.
//
// Folding rules, in order:
//   * Input should be UTF-8. Bytes that do not form a valid UTF-8 sequence are read as
//     Windows-1252 (what the WHATWG encoding standard means by "latin1"; it equals ISO-8859-1
//     except that 0x80-0x9F are the curly quotes, dashes and Š/š/Ž/ž a Windows-exported CSV
//     really contains). The five bytes Windows-1252 leaves undefined are dropped.
//   * Diacritics are folded by utf8proc (decompose, strip marks, case-fold, compatibility
//     forms), then a few letters that have no decomposition are transliterated (ø->o, ł->l,
//     đ->d, ı->i, æ->ae, œ->oe, ð->d, þ->th). Any other non-ASCII leftover is dropped.
//   * Apostrophes (' ` ’ ‘ ‛ ′ ´ ʼ ʻ) and periods are deleted: "De'Anthony" -> "deanthony",
//     "C.J." -> "cj". Hyphens, dashes, commas, whitespace and all other punctuation separate
//     words: "Karl-Anthony" -> "karl anthony".
//   * Consecutive one-letter words merge: "C. J. McCollum" -> "cj mccollum".
//   * A last word jr, sr, ii, iii, iv or v is a generational suffix, dropped from no_suffix only
//     when at least two other words remain ("J.R. Smith" stays "jr smith").
#ifndef NBAPROPS_PIPELINE_PLAYER_NAMES_H_
#define NBAPROPS_PIPELINE_PLAYER_NAMES_H_

#include <string>
#include <string_view>

namespace nbaprops::pipeline {

// Keys used to match a player's name across sources. All keys are lower-case ASCII words
// separated by single spaces.
struct NameKeys {
  std::string full;       // diacritics folded, punctuation dropped, suffix kept: "derrick jones jr"
  std::string no_suffix;  // same without a generational suffix: "derrick jones"
  std::string nickname;   // no_suffix with a known nickname first name replaced by the formal one
                          // ("herb jones" -> "herbert jones"), or a whole-name alias applied
                          // ("kj martin" -> "kenyon martin"); equals no_suffix when none applies
};

// Never fails: invalid UTF-8 is read as Windows-1252 (see above); a name with no letters or
// digits gives three empty keys.
NameKeys MakeNameKeys(std::string_view name);

// True when `s` is well-formed UTF-8 (RFC 3629): no stray continuation bytes, no truncated
// sequences, no overlong encodings, no UTF-16 surrogates, nothing above U+10FFFF.
bool IsValidUtf8(std::string_view s);
// s with every byte that is not part of a valid UTF-8 sequence written as "\xHH": a text column
// (PostgreSQL's in particular) must hold valid UTF-8, and the bytes stay readable.
std::string EscapeInvalidUtf8(std::string_view s);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_PLAYER_NAMES_H_
