// A JSON Schema (draft 2020-12) validator for the subset our export schemas use, for tests.
// Keywords: type, properties, required, additionalProperties, items, minItems, maxItems, enum,
// const, minimum, maximum, minLength, pattern, format (date, date-time), $ref (#/$defs/...),
// anyOf, oneOf; $schema, $id, title, description and $defs are annotations. Any other keyword
// is reported as an error, so a schema never silently checks less than it says.
#ifndef NBAPROPS_TESTS_JSON_SCHEMA_H_
#define NBAPROPS_TESTS_JSON_SCHEMA_H_

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace nbaprops::testing {

namespace json_schema_internal {

using nlohmann::json;

inline bool HasType(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") return v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::floor(v.get<double>()));
  return false;
}

inline std::string TypeName(const json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  return v.type_name();
}

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void Check(const json& s, const json& v, const std::string& path, std::vector<std::string>* errors) const {
    static const std::set<std::string> kKnown = {
        "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "enum",
        "const", "minimum", "maximum", "minLength", "pattern", "format", "$ref", "anyOf", "oneOf", "$schema",
        "$id", "title", "description", "$defs"};
    auto err = [&](const std::string& m) { errors->push_back((path.empty() ? "/" : path) + ": " + m); };
    for (auto it = s.begin(); it != s.end(); ++it) {
      if (!kKnown.count(it.key())) err("unsupported keyword " + it.key());
    }
    if (s.contains("$ref")) {
      const std::string ref = s["$ref"];
      const std::string prefix = "#/$defs/";
      if (ref.rfind(prefix, 0) != 0 || !root_.contains("$defs") || !root_["$defs"].contains(ref.substr(prefix.size()))) {
        err("unresolvable $ref " + ref);
        return;
      }
      Check(root_["$defs"][ref.substr(prefix.size())], v, path, errors);
    }
    if (s.contains("type")) {
      std::vector<std::string> types;
      if (s["type"].is_array()) {
        for (const auto& t : s["type"]) types.push_back(t);
      } else {
        types.push_back(s["type"]);
      }
      bool ok = false;
      for (const auto& t : types) ok = ok || HasType(v, t);
      if (!ok) {
        std::string want;
        for (const auto& t : types) want += (want.empty() ? "" : " or ") + t;
        err("expected " + want + ", got " + TypeName(v));
        return;
      }
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const auto& e : s["enum"]) found = found || e == v;
      if (!found) err("value " + v.dump() + " not in " + s["enum"].dump());
    }
    if (s.contains("const") && s["const"] != v) err("expected " + s["const"].dump() + ", got " + v.dump());
    if (v.is_number()) {
      if (s.contains("minimum") && v.get<double>() < s["minimum"].get<double>()) err("below minimum " + s["minimum"].dump());
      if (s.contains("maximum") && v.get<double>() > s["maximum"].get<double>()) err("above maximum " + s["maximum"].dump());
    }
    if (v.is_string()) {
      const std::string str = v;
      if (s.contains("minLength") && str.size() < s["minLength"].get<size_t>()) err("shorter than minLength");
      if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>()))) {
        err("'" + str + "' does not match " + s["pattern"].get<std::string>());
      }
      if (s.contains("format")) {
        const std::string f = s["format"];
        static const std::regex kDate(R"(^\d{4}-\d{2}-\d{2}$)");
        static const std::regex kDateTime(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$)");
        if (f == "date" && !std::regex_match(str, kDate)) err("'" + str + "' is not a date");
        if (f == "date-time" && !std::regex_match(str, kDateTime)) err("'" + str + "' is not a date-time");
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) err("fewer than minItems");
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) err("more than maxItems");
      if (s.contains("items")) {
        for (size_t i = 0; i < v.size(); ++i) Check(s["items"], v[i], path + "/" + std::to_string(i), errors);
      }
    }
    if (v.is_object()) {
      if (s.contains("required")) {
        for (const auto& k : s["required"]) {
          if (!v.contains(k.get<std::string>())) err("missing required property " + k.get<std::string>());
        }
      }
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string child = path + "/" + it.key();
        if (s.contains("properties") && s["properties"].contains(it.key())) {
          Check(s["properties"][it.key()], it.value(), child, errors);
        } else if (s.contains("additionalProperties")) {
          const json& ap = s["additionalProperties"];
          if (ap.is_boolean()) {
            if (!ap.get<bool>()) err("unexpected property " + it.key());
          } else {
            Check(ap, it.value(), child, errors);
          }
        }
      }
    }
    for (const char* kw : {"anyOf", "oneOf"}) {
      if (!s.contains(kw)) continue;
      int matches = 0;
      for (const auto& sub : s[kw]) {
        std::vector<std::string> e;
        Check(sub, v, path, &e);
        matches += e.empty();
      }
      if (std::string(kw) == "anyOf" && matches == 0) err("matches none of anyOf");
      if (std::string(kw) == "oneOf" && matches != 1) err("matches " + std::to_string(matches) + " of oneOf, not 1");
    }
  }

 private:
  const json& root_;
};

}  // namespace json_schema_internal

// Errors of `doc` against `schema` (empty when valid), each naming the JSON pointer path.
inline std::vector<std::string> ValidateJson(const nlohmann::json& schema, const nlohmann::json& doc) {
  std::vector<std::string> errors;
  json_schema_internal::Validator(schema).Check(schema, doc, "", &errors);
  return errors;
}

inline std::vector<std::string> ValidateJsonFile(const std::string& schema_path, const std::string& doc_path) {
  auto read = [](const std::string& p, nlohmann::json* out) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    *out = nlohmann::json::parse(ss.str(), nullptr, false);
    return in.good() || in.eof() ? !out->is_discarded() : false;
  };
  nlohmann::json schema, doc;
  if (!read(schema_path, &schema)) return {schema_path + ": not readable JSON"};
  if (!read(doc_path, &doc)) return {doc_path + ": not readable JSON"};
  return ValidateJson(schema, doc);
}

// Every JSON document under an export directory against its schema in schemas/ (by where it
// lives: predictions/, best-bets/, results/, systems/performance.json, status.json); a document
// with no schema, and a directory with no document, are errors too.
inline std::vector<std::string> ExportSchemaErrors(const std::string& exports) {
  std::vector<std::string> errors;
  int checked = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(exports)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    std::string rel = std::filesystem::relative(e.path(), exports).string();
    std::string schema = rel.rfind("predictions/", 0) == 0  ? "predictions"
                         : rel.rfind("best-bets/", 0) == 0  ? "best-bets"
                         : rel.rfind("results/", 0) == 0    ? "results"
                         : rel == "systems/performance.json" ? "performance"
                         : rel == "status.json"              ? "status"
                                                             : "";
    if (schema.empty()) {
      errors.push_back(rel + ": no schema for this document");
      continue;
    }
    ++checked;
    for (const std::string& err :
         ValidateJsonFile(std::string(NBAPROPS_SOURCE_DIR) + "/schemas/" + schema + ".schema.json", e.path().string())) {
      errors.push_back(rel + ": " + err);
    }
  }
  if (checked == 0) errors.push_back("no documents under " + exports);
  return errors;
}

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_JSON_SCHEMA_H_
