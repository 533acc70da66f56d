// String and number helpers shared by every layer. Pure functions, thread-safe.
#ifndef NBAPROPS_BASE_STRINGS_H_
#define NBAPROPS_BASE_STRINGS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nbaprops {

std::string_view Trim(std::string_view s);
std::string ToLower(std::string_view s);
std::string ToUpper(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);

// `s` as a JSON string literal, quotes included (for small JSON objects built by hand where a
// JSON library would be a heavy include). Control characters become spaces.
std::string JsonQuoted(std::string_view s);

// `s` as text of HTML or XML (SVG), in element content or a quoted attribute value: & < > " '
// as entities; tab, newline and carriage return as character references, so they survive in
// attributes (a tooltip's lines); any other control character, which XML 1.0 forbids even as a
// reference, as '?'.
std::string MarkupEscape(std::string_view s);

// Whole-string numbers (surrounding spaces allowed); nullopt on anything else.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<double> ParseDouble(std::string_view s);

// Shortens text kept for humans (raw rejected records) to at most `max` bytes.
std::string Truncate(std::string_view s, size_t max = 2048);

// Content hash: lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);
// Lower-case hex HMAC-SHA256 of `data` under `key` (webhook request signatures).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_STRINGS_H_
