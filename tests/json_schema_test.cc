// The test-only JSON Schema validator must reject what it claims to check, or schema tests prove nothing.
#include "tests/json_schema.h"

#include <gtest/gtest.h>

namespace nbaprops::testing {
namespace {

using nlohmann::json;

std::string Errors(const json& schema, const json& doc) {
  std::string out;
  for (const auto& e : ValidateJson(schema, doc)) out += e + "\n";
  return out;
}

TEST(JsonSchema, TypesRequiredAndExtraProperties) {
  json s = json::parse(R"({"type": "object", "required": ["a"], "additionalProperties": false,
                           "properties": {"a": {"type": "integer"}, "b": {"type": ["number", "null"]}}})");
  EXPECT_EQ(Errors(s, json::parse(R"({"a": 1, "b": null})")), "");
  EXPECT_EQ(Errors(s, json::parse(R"({"a": 1, "b": 2.5})")), "");
  EXPECT_EQ(Errors(s, json::parse(R"({"a": 1.5})")), "/a: expected integer, got number\n");
  EXPECT_EQ(Errors(s, json::parse(R"({"b": "x"})")),
            "/: missing required property a\n/b: expected number or null, got string\n");
  EXPECT_EQ(Errors(s, json::parse(R"({"a": 1, "c": 0})")), "/: unexpected property c\n");
}

TEST(JsonSchema, ArraysEnumsBoundsPatternsFormats) {
  json s = json::parse(R"({"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "object", "properties": {
      "k": {"enum": ["OVER", "UNDER"]}, "p": {"type": "number", "minimum": 0, "maximum": 1},
      "t": {"type": "string", "pattern": "^[A-Z]{3}$"}, "d": {"type": "string", "format": "date"},
      "at": {"type": "string", "format": "date-time"}, "c": {"const": "v1"}, "n": {"type": "string", "minLength": 1}}}})");
  EXPECT_EQ(Errors(s, json::parse(R"([{"k": "OVER", "p": 0.5, "t": "DEN", "d": "2024-01-31",
                                       "at": "2024-01-31T15:00:00Z", "c": "v1", "n": "x"}])")),
            "");
  EXPECT_NE(Errors(s, json::array()).find("fewer than minItems"), std::string::npos);
  EXPECT_NE(Errors(s, json::parse("[{}, {}, {}]")).find("more than maxItems"), std::string::npos);
  std::string e = Errors(s, json::parse(R"([{"k": "PUSH", "p": 1.5, "t": "Den", "d": "01/31/2024",
                                             "at": "2024-01-31 15:00", "c": "v2", "n": ""}])"));
  for (const char* want : {"/0/k: value \"PUSH\" not in", "/0/p: above maximum", "/0/t: 'Den' does not match",
                           "/0/d: '01/31/2024' is not a date", "/0/at: '2024-01-31 15:00' is not a date-time",
                           "/0/c: expected \"v1\"", "/0/n: shorter than minLength"}) {
    EXPECT_NE(e.find(want), std::string::npos) << want << " in\n" << e;
  }
}

TEST(JsonSchema, RefsAnyOfOneOfAndUnsupportedKeywords) {
  json s = json::parse(R"({"$defs": {"pos": {"type": "number", "minimum": 0}},
      "type": "object", "properties": {"x": {"$ref": "#/$defs/pos"},
        "y": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/pos"}]},
        "z": {"oneOf": [{"type": "number"}, {"type": "integer"}]}}})");
  EXPECT_EQ(Errors(s, json::parse(R"({"x": 1, "y": null, "z": 1.5})")), "");
  EXPECT_NE(Errors(s, json::parse(R"({"x": -1})")).find("/x: below minimum"), std::string::npos);
  EXPECT_NE(Errors(s, json::parse(R"({"y": -1})")).find("/y: matches none of anyOf"), std::string::npos);
  EXPECT_NE(Errors(s, json::parse(R"({"z": 2})")).find("/z: matches 2 of oneOf"), std::string::npos);
  EXPECT_NE(Errors(json::parse(R"({"type": "string", "maxLength": 3})"), "abcd").find("unsupported keyword maxLength"),
            std::string::npos);
  EXPECT_NE(Errors(json::parse(R"({"$ref": "#/$defs/nope"})"), 1).find("unresolvable $ref"), std::string::npos);
}

}  // namespace
}  // namespace nbaprops::testing
