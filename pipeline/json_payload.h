// Internal to pipeline/: the JSON helpers shared by the recorded-API adapters
// (balldontlie_format.cc, odds_api_format.cc). Includes nlohmann/json, so only .cc files may
// include it, never a header.
#ifndef NBAPROPS_PIPELINE_JSON_PAYLOAD_H_
#define NBAPROPS_PIPELINE_JSON_PAYLOAD_H_

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "pipeline/formats.h"
#include "pipeline/teams.h"

namespace nbaprops::pipeline::json_payload {

// ordered_json keeps keys in the payload's order, so a Reject's raw text reads like the original item.
using json = nlohmann::ordered_json;

inline constexpr size_t kMaxRawBytes = 2048;

// Below this many items, a field absent from every item is treated as a record-level problem: one
// record missing `pts` says nothing about the API's shape, and its Reject keeps it visible.
inline constexpr size_t kMinItemsForShapeCheck = 2;

inline std::string At(std::string_view location, std::string_view json_path) {
  return std::string(location) + ":" + std::string(json_path);
}

inline std::string Index(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

// `replace`: a dump kept for humans must never fail on odd bytes.
inline std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

inline std::string RawText(const json& v) { return Truncate(Dump(v), kMaxRawBytes); }

// A value as quoted in a message: short, strings in quotes.
inline std::string Shown(const json& v) {
  if (v.is_string()) return "'" + Truncate(v.get_ref<const std::string&>(), 40) + "'";
  return Truncate(Dump(v), 40);
}

inline std::string TypeWithArticle(const json& v) {
  if (v.is_null()) return "null";
  std::string t = v.type_name();
  return (t == "array" || t == "object") ? "an " + t : "a " + t;
}

inline const json* Find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Whole JSON numbers: 23, and 23.0 as some re-exports write them.
inline std::optional<int64_t> AsWhole(const json& v) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

// ISO-8601 string, or Unix seconds when the payload was fetched with dateFormat=unix.
inline std::optional<int64_t> AsTimestamp(const json& v) {
  if (v.is_string()) return ParseIsoTimestamp(Trim(v.get_ref<const std::string&>()));
  return AsWhole(v);
}

inline std::string FormatLine(double line) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", line);
  return buf;
}

// nlohmann reports where parsing stopped only through its exception; this is the one call that can
// throw, and the exception stops here as a Status.
inline Status ParseDocument(std::string_view text, std::string_view location, json* out) {
  try {
    *out = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string detail = e.what();
    if (size_t cut = detail.find("] "); cut != std::string::npos) detail.erase(0, cut + 2);
    return InvalidArgumentError(std::string(location) + ": not valid JSON (truncated?) at byte " +
                                std::to_string(e.byte) + ": " + detail +
                                "; fetch the response again or restore the file from its source");
  }
  return OkStatus();
}

inline std::string FieldList(const json& obj) {
  std::vector<std::string> keys;
  for (auto it = obj.begin(); it != obj.end() && keys.size() < 12; ++it) keys.push_back(it.key());
  if (obj.size() > keys.size()) keys.push_back("...");
  return keys.empty() ? "(none)" : Join(keys, ", ");
}

// The payload's shape is not the one this adapter was written for (kDataLoss = "schema_mismatch").
// The message lists what the root does have and any error text the API sent, since a renamed field
// or an error body ({"message": "..."}) saved as if it were data is the usual cause.
inline Status ShapeChanged(std::string_view location, const std::string& what, const json& root) {
  std::string msg = std::string(location) + ": " + what + " (the response shape changed?)";
  if (root.is_object()) {
    msg += "; the root has fields: " + FieldList(root);
    for (const char* k : {"message", "error"}) {
      const json* said = Find(root, k);
      if (said && said->is_string()) {
        msg += "; the API answered: " + Truncate(said->get_ref<const std::string&>(), 200);
        break;
      }
    }
  }
  return DataLossError(msg + "; update pipeline/api_formats.cc if the API changed");
}

inline Status MissingField(std::string_view location, const std::string& field, const json& root, const json* value) {
  if (value == nullptr) return ShapeChanged(location, "field '" + field + "' is missing", root);
  return ShapeChanged(location, "field '" + field + "' is " + TypeWithArticle(*value), root);
}

// Everything wrong with one item, reported as a single Reject at the first problem's path: one item
// read is one record or one reject, however many problems it has.
class ItemProblems {
 public:
  explicit ItemProblems(std::string item_location) : item_location_(std::move(item_location)) {}

  // `field` is a path below the item ("player.id"), or empty for the item itself.
  void Add(std::string_view field, std::string reason) {
    if (reasons_.empty()) {
      first_location_ = field.empty() ? item_location_ : item_location_ + "." + std::string(field);
    }
    reasons_.push_back(std::move(reason));
  }
  bool empty() const { return reasons_.empty(); }
  Reject ToReject(std::string_view prefix, const json& raw) const {
    return {first_location_, std::string(prefix) + Join(reasons_, "; "), RawText(raw)};
  }

 private:
  std::string item_location_;
  std::string first_location_;
  std::vector<std::string> reasons_;
};

// Reports the first fields named in `keys` that are absent from every object in `items`: a field
// renamed upstream would otherwise reject every record one by one and hide the one real message.
inline std::vector<std::string> AbsentEverywhere(const std::vector<const json*>& items, const std::vector<std::string>& keys) {
  std::vector<std::string> absent;
  if (items.size() < kMinItemsForShapeCheck) return absent;
  for (const std::string& k : keys) {
    bool seen = false;
    for (const json* item : items) {
      if (item->contains(k)) {
        seen = true;
        break;
      }
    }
    if (!seen) absent.push_back(k);
  }
  return absent;
}

inline std::string QuotedList(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back("'" + n + "'");
  return Join(q, ", ");
}


// ---------------------------------------------------------------------------------------------
// Shape detection

// Walks the start of a document without building it and remembers its first levels: root keys,
// the keys of data[0] and of meta. Whatever was seen before a syntax error is kept, so a truncated
// download is still recognized.
class ShapeSniffer : public nlohmann::json_sax<json> {
 public:
  bool root_is_object = false;
  bool data_is_array = false;
  std::set<std::string> root_keys;
  std::set<std::string> first_item_keys;  // keys of data[0]
  std::set<std::string> meta_keys;

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override {
    Value();
    if (stack_.empty()) root_is_object = true;
    stack_.push_back({false, "", -1});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = k;
    if (stack_.size() == 1) root_keys.insert(k);
    if (InFirstDataItem()) first_item_keys.insert(k);
    if (stack_.size() == 2 && RootKeyIs("meta") && !stack_[1].is_array) meta_keys.insert(k);
    return true;
  }
  bool end_object() override {
    stack_.pop_back();
    // data[0] is all detection needs from the rows; stop rather than walk a 100-row page.
    return !(stack_.size() == 2 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0);
  }
  bool start_array(std::size_t) override {
    Value();
    if (stack_.size() == 1 && RootKeyIs("data") && !stack_[0].is_array) data_is_array = true;
    stack_.push_back({true, "", -1});
    return true;
  }
  bool end_array() override {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  struct Frame {
    bool is_array;
    std::string key;  // current key of an object
    int64_t index;    // current element of an array
  };

  bool Value() {
    if (!stack_.empty() && stack_.back().is_array) ++stack_.back().index;
    return true;
  }
  bool RootKeyIs(std::string_view k) const { return !stack_.empty() && !stack_[0].is_array && stack_[0].key == k; }
  bool InFirstDataItem() const {
    return stack_.size() == 3 && RootKeyIs("data") && stack_[1].is_array && stack_[1].index == 0 && !stack_[2].is_array;
  }

  std::vector<Frame> stack_;
};

inline ShapeSniffer Sniff(std::string_view text) {
  ShapeSniffer sniffer;
  json::sax_parse(text.begin(), text.end(), &sniffer);  // false on a syntax error or an early stop: fine
  return sniffer;
}


}  // namespace nbaprops::pipeline::json_payload

#endif  // NBAPROPS_PIPELINE_JSON_PAYLOAD_H_
