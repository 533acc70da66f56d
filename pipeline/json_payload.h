// Internal to pipeline/: the JSON helpers shared by the recorded-API adapters
// (balldontlie_format.cc, odds_api_format.cc, and the shape detection in api_formats.cc).
// This header includes <nlohmann/json.hpp>: include it from .cc files only, never from a header,
// so that nlohmann stays out of every public interface (pipeline/api_formats.h in particular).
#ifndef NBAPROPS_PIPELINE_JSON_PAYLOAD_H_
#define NBAPROPS_PIPELINE_JSON_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "pipeline/records.h"

namespace nbaprops::pipeline::json_payload {

// ordered_json keeps keys in the payload's order, so a Reject's raw text reads like the original item.
using json = nlohmann::ordered_json;

// "<location>:<json_path>", e.g. "stats_page1.json:$.data[3]".
std::string At(std::string_view location, std::string_view json_path);

// "<path>[<i>]".
std::string Index(std::string_view path, size_t i);

// A value's JSON text as kept in a Reject (truncated; never fails on odd bytes).
std::string RawText(const json& v);

// A value as quoted in a message: short, strings in quotes.
std::string Shown(const json& v);

// "null", "a string", "an object", ...
std::string TypeWithArticle(const json& v);

// The member `key` of `obj`, or nullptr when `obj` is not an object or has no such member.
const json* Find(const json& obj, const char* key);

// Whole JSON numbers: 23, and 23.0 as some re-exports write them.
std::optional<int64_t> AsWhole(const json& v);

// Parses the whole document. Invalid JSON (usually a truncated download) is kInvalidArgument with
// the byte where parsing stopped; nothing here throws.
Status ParseDocument(std::string_view text, std::string_view location, json* out);

// The payload's shape is not the one the adapter was written for (kDataLoss = "schema_mismatch").
// The message lists what the root does have and any error text the API sent, since a renamed field
// or an error body ({"message": "..."}) saved as if it were data is the usual cause.
Status ShapeChanged(std::string_view location, const std::string& what, const json& root);

// ShapeChanged for a top-level field that is absent (`value` == nullptr) or of the wrong type.
Status MissingField(std::string_view location, const std::string& field, const json& root, const json* value);

// Everything wrong with one item, reported as a single Reject at the first problem's path: one item
// read is one record or one reject, however many problems it has.
class ItemProblems {
 public:
  explicit ItemProblems(std::string item_location) : item_location_(std::move(item_location)) {}

  // `field` is a path below the item ("player.id"), or empty for the item itself.
  void Add(std::string_view field, std::string reason);
  bool empty() const { return reasons_.empty(); }
  Reject ToReject(std::string_view prefix, const json& raw) const;

 private:
  std::string item_location_;
  std::string first_location_;
  std::vector<std::string> reasons_;
};

// Reports the first fields named in `keys` that are absent from every object in `items`: a field
// renamed upstream would otherwise reject every record one by one and hide the one real message.
// Returns nothing for fewer than two items, where an absent field is a record-level problem.
std::vector<std::string> AbsentEverywhere(const std::vector<const json*>& items, const std::vector<std::string>& keys);

// "'a', 'b', 'c'".
std::string QuotedList(const std::vector<std::string>& names);

// "; the first <noun> has: 'a', 'b', ..." (at most 15 keys), or "" without items: appended to an
// AbsentEverywhere message, a renamed field reads at once next to the missing one.
std::string FirstItemHas(const std::vector<const json*>& items, const std::string& noun);

}  // namespace nbaprops::pipeline::json_payload

#endif  // NBAPROPS_PIPELINE_JSON_PAYLOAD_H_
