// Fuzz target: The Odds API v4 events list (ParseOddsEvents, pipeline/api_formats.h), which the
// odds scraper reads to know which events' odds to request.
#include <string>

#include "base/time.h"
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/api_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  const std::string_view json = fuzz::AsText(data, size);
  auto events = pipeline::ParseOddsEvents(json, "events.json");
  if (!events.ok()) {
    fuzz::CheckError(events.status());
    return 0;
  }
  for (const pipeline::OddsEvent& e : *events) {
    FUZZ_CHECK(!e.id.empty());
    FUZZ_CHECK(e.matchup.find(" at ") != std::string::npos);
    // The scraper compares it with the partition's date: it must be one the pipeline accepts.
    FUZZ_CHECK(IsIsoDate(e.game_date));
  }
  return 0;
}
