// Fuzz target: RotoWire prop-page snapshots (pipeline/rotowire_format.cc through ParsePayload).
// Input: "<file name>\n<file bytes>". The name matters: a "YYYYMMDDTHHMMSSZ_..." prefix is the
// capture time, so the file-name parser is fuzzed too.
#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/formats.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  std::string_view content = fuzz::AsText(data, size);
  const std::string name(fuzz::TakeLine(&content, 80));
  auto parsed = pipeline::ParsePayload(pipeline::ImportKind::kRotowireProps, content, name, 1706745600);
  if (!parsed.ok()) {
    fuzz::CheckError(parsed.status());
    return 0;
  }
  fuzz::CheckRejects(parsed->rejects, name);
  fuzz::CheckRecords(parsed->props, name);
  fuzz::CheckProps(parsed->props);
  for (const auto& p : parsed->props) {
    FUZZ_CHECK(p.sportsbook == "draftkings" || p.sportsbook == "fanduel" || p.sportsbook == "betmgm" ||
               p.sportsbook == "pointsbet");
    FUZZ_CHECK(p.game_date.size() == 10);
  }
  return 0;
}
