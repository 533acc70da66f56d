// Fuzz target: the JSON helpers the recorded-API adapters share (pipeline/json_payload.h) and the
// streaming shape sniffer behind LooksLike* (pipeline/api_formats.cc), on any JSON document.
#include "fuzz/fuzz_target.h"
#include "pipeline/api_formats.h"
#include "pipeline/json_payload.h"

namespace {

using nbaprops::pipeline::json_payload::json;

// Every helper on every value of the first levels (deep documents are the parsers' problem, and
// this must stay fast).
void Visit(const json& v, int depth, int* budget) {
  namespace jp = nbaprops::pipeline::json_payload;
  if (--*budget < 0) return;
  FUZZ_CHECK(jp::RawText(v).size() <= 2048 + 3);
  (void)jp::Shown(v);
  FUZZ_CHECK(!jp::TypeWithArticle(v).empty());
  (void)jp::AsWhole(v);
  (void)jp::Find(v, "data");
  if (depth >= 4) return;
  if (v.is_array()) {
    std::vector<const json*> items;
    for (const json& e : v) {
      items.push_back(&e);
      Visit(e, depth + 1, budget);
    }
    (void)jp::AbsentEverywhere(items, {"pts", "min", "player"});
  } else if (v.is_object()) {
    jp::ItemProblems problems("doc.json:$");
    for (auto it = v.begin(); it != v.end(); ++it) {
      problems.Add(it.key(), "checked");
      Visit(it.value(), depth + 1, budget);
    }
    if (!problems.empty()) (void)problems.ToReject("bad: ", v);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  namespace jp = pipeline::json_payload;
  const std::string_view text = fuzz::AsText(data, size);
  (void)pipeline::LooksLikeBalldontlieStats(text);
  (void)pipeline::LooksLikeOddsApiEventOdds(text);
  json root;
  Status st = jp::ParseDocument(text, "doc.json", &root);
  if (!st.ok()) {
    FUZZ_CHECK(!st.message().empty());
    return 0;
  }
  int budget = 2000;
  Visit(root, 0, &budget);
  FUZZ_CHECK(!jp::ShapeChanged("doc.json", "probe", root).ok());
  FUZZ_CHECK(!jp::MissingField("doc.json", "data", root, jp::Find(root, "data")).ok());
  return 0;
}
