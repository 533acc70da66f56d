// Fuzz target: balldontlie v1 /v1/stats pages (ParseBalldontlieStats, pipeline/api_formats.h),
// and the shape detection `nbaprops import` runs first.
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/api_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  const std::string_view json = fuzz::AsText(data, size);
  const std::string_view name = "stats.json";
  (void)pipeline::LooksLikeBalldontlieStats(json);
  auto page = pipeline::ParseBalldontlieStats(json, name);
  if (!page.ok()) {
    fuzz::CheckError(page.status());
    return 0;
  }
  fuzz::CheckRejects(page->stats.rejects, name);
  fuzz::CheckRecords(page->stats.records, name);
  for (const auto& r : page->stats.records) {
    FUZZ_CHECK(r.minutes >= 0);
    FUZZ_CHECK(!r.game_id.empty());
  }
  return 0;
}
