// Fuzz target: The Odds API v4 event odds (ParseOddsApiEventOdds, pipeline/api_formats.h), and
// the shape detection `nbaprops import` runs first.
#include "base/time.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/api_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  const std::string_view json = fuzz::AsText(data, size);
  const std::string_view name = "odds.json";
  (void)pipeline::LooksLikeOddsApiEventOdds(json);
  auto odds = pipeline::ParseOddsApiEventOdds(json, name, 1706745600);
  if (!odds.ok()) {
    fuzz::CheckError(odds.status());
    return 0;
  }
  fuzz::CheckRejects(odds->rejects, name);
  fuzz::CheckRecords(odds->records, name);
  fuzz::CheckProps(odds->records);
  for (const auto& p : odds->records) {
    FUZZ_CHECK(!p.sportsbook.empty());
    FUZZ_CHECK(IsIsoDate(p.game_date));
  }
  return 0;
}
