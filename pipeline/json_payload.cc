#include "pipeline/json_payload.h"

#include <cmath>
#include <limits>

#include "base/strings.h"

namespace nbaprops::pipeline::json_payload {
namespace {

constexpr size_t kMaxRawBytes = 2048;

// Below this many items, a field absent from every item is treated as a record-level problem: one
// record missing `pts` says nothing about the API's shape, and its Reject keeps it visible.
constexpr size_t kMinItemsForShapeCheck = 2;

// `replace`: a dump kept for humans must never fail on odd bytes.
std::string Dump(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string FieldList(const json& obj) {
  std::vector<std::string> keys;
  for (auto it = obj.begin(); it != obj.end() && keys.size() < 12; ++it) keys.push_back(it.key());
  if (obj.size() > keys.size()) keys.push_back("...");
  return keys.empty() ? "(none)" : Join(keys, ", ");
}

}  // namespace

std::string At(std::string_view location, std::string_view json_path) {
  return std::string(location) + ":" + std::string(json_path);
}

std::string Index(std::string_view path, size_t i) { return std::string(path) + "[" + std::to_string(i) + "]"; }

std::string RawText(const json& v) { return Truncate(Dump(v), kMaxRawBytes); }

std::string Shown(const json& v) {
  if (v.is_string()) return "'" + Truncate(v.get_ref<const std::string&>(), 40) + "'";
  return Truncate(Dump(v), 40);
}

std::string TypeWithArticle(const json& v) {
  if (v.is_null()) return "null";
  std::string t = v.type_name();
  return (t == "array" || t == "object") ? "an " + t : "a " + t;
}

const json* Find(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

std::optional<int64_t> AsWhole(const json& v) {
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

// nlohmann reports where parsing stopped only through its exception; this is the one call that can
// throw, and every json::exception (not only parse_error) stops here as a Status.
Status ParseDocument(std::string_view text, std::string_view location, json* out) {
  try {
    *out = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    std::string detail = e.what();
    if (size_t cut = detail.find("] "); cut != std::string::npos) detail.erase(0, cut + 2);
    return InvalidArgumentError(std::string(location) + ": not valid JSON (truncated?) at byte " +
                                std::to_string(e.byte) + ": " + detail +
                                "; fetch the response again or restore the file from its source");
  } catch (const json::exception& e) {
    // Valid syntax nlohmann still refuses, e.g. a number beyond double's range ("1e999" throws
    // out_of_range 406); it has no byte offset.
    std::string detail = e.what();
    if (size_t cut = detail.find("] "); cut != std::string::npos) detail.erase(0, cut + 2);
    return InvalidArgumentError(std::string(location) + ": unreadable JSON: " + detail +
                                "; fetch the response again or restore the file from its source");
  }
  return OkStatus();
}

Status ShapeChanged(std::string_view location, const std::string& what, const json& root) {
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
  return DataLossError(msg + "; if the API changed, update its adapter (the pipeline/*_format.cc that reads it)");
}

Status MissingField(std::string_view location, const std::string& field, const json& root, const json* value) {
  if (value == nullptr) return ShapeChanged(location, "field '" + field + "' is missing", root);
  return ShapeChanged(location, "field '" + field + "' is " + TypeWithArticle(*value), root);
}

void ItemProblems::Add(std::string_view field, std::string reason) {
  if (reasons_.empty()) {
    first_location_ = field.empty() ? item_location_ : item_location_ + "." + std::string(field);
  }
  reasons_.push_back(std::move(reason));
}

Reject ItemProblems::ToReject(std::string_view prefix, const json& raw) const {
  return {first_location_, std::string(prefix) + Join(reasons_, "; "), RawText(raw)};
}

std::vector<std::string> AbsentEverywhere(const std::vector<const json*>& items, const std::vector<std::string>& keys) {
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

std::string QuotedList(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (const auto& n : names) q.push_back("'" + n + "'");
  return Join(q, ", ");
}

std::string FirstItemHas(const std::vector<const json*>& items, const std::string& noun) {
  if (items.empty()) return "";
  std::vector<std::string> keys;
  for (auto it = items[0]->begin(); it != items[0]->end() && keys.size() < 15; ++it) keys.push_back(it.key());
  return "; the first " + noun + " has: " + QuotedList(keys);
}

}  // namespace nbaprops::pipeline::json_payload
