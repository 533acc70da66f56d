// Fuzz target: the CSV imports of pipeline/formats.h (docs/import-formats.md).
// Input: one selector byte, then the file's bytes. selector % 8 picks the parser:
//   0 schedule, 1 box_scores, 2 injuries, 3 player_props, 4 game_lines, 5 players,
//   6 rotowire_props, 7 `nbaprops import` without --kind: DetectKind, then the kind it found
//   (which may be one of the JSON kinds).
#include <array>

#include "fuzz/fuzz_target.h"
#include "fuzz/payload_checks.h"
#include "pipeline/formats.h"

namespace {

using nbaprops::pipeline::ImportKind;

constexpr std::array<ImportKind, 7> kCsvKinds = {
    ImportKind::kSchedule,    ImportKind::kBoxScores, ImportKind::kInjuries,      ImportKind::kPlayerProps,
    ImportKind::kGameLines,   ImportKind::kPlayers,   ImportKind::kRotowireProps,
};

constexpr int64_t kFetchedAt = 1706745600;  // 2024-02-01T00:00:00Z

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  if (size < 1) return 0;
  const unsigned selector = data[0] % 8;
  const std::string_view content = fuzz::AsText(data + 1, size - 1);
  const std::string name = "fuzz.csv";

  ImportKind kind;
  if (selector < kCsvKinds.size()) {
    kind = kCsvKinds[selector];
  } else {
    pipeline::Detection d = pipeline::DetectKind(content);
    if (d.kind == ImportKind::kUnknown) return 0;
    kind = d.kind;
  }
  auto parsed = pipeline::ParsePayload(kind, content, name, kFetchedAt);
  if (!parsed.ok()) {
    fuzz::CheckError(parsed.status());
    return 0;
  }
  FUZZ_CHECK(parsed->kind == kind);
  fuzz::CheckRejects(parsed->rejects, name);
  fuzz::CheckRecords(parsed->games, name);
  fuzz::CheckRecords(parsed->box_scores, name);
  fuzz::CheckRecords(parsed->injuries, name);
  fuzz::CheckRecords(parsed->props, name);
  fuzz::CheckProps(parsed->props);
  fuzz::CheckRecords(parsed->game_lines, name);
  FUZZ_CHECK(parsed->read() >= parsed->produced());
  return 0;
}
