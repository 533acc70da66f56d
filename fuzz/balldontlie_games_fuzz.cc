// Fuzz target: balldontlie v1 /v1/games pages (ParseBdlGamesPage, pipeline/api_formats.h), which
// the balldontlie scraper reads to know which box scores to expect.
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/api_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  const std::string_view json = fuzz::AsText(data, size);
  auto page = pipeline::ParseBdlGamesPage(json, "games.json");
  if (!page.ok()) {
    fuzz::CheckError(page.status());
    return 0;
  }
  for (const pipeline::BdlGame& g : page->games) {
    // "<visitor> at <home>", each side an abbreviation or "?": never empty, never without " at ".
    FUZZ_CHECK(g.matchup.find(" at ") != std::string::npos);
    FUZZ_CHECK(g.matchup.compare(0, 4, " at ") != 0 && g.matchup.size() >= 6);
    FUZZ_CHECK(g.matchup.substr(g.matchup.size() - 4) != " at ");
  }
  return 0;
}
