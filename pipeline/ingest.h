// Phases 1 and 2: landing raw payloads verbatim, then parsing them into raw_* tables.
//
// Phase 1 (`store_payload`, partition "file:<path>") stores the bytes with source, key, fetch
// time, SHA-256 and size; the same bytes twice are stored once. Phase 2 (`parse_payload`,
// partition "payload:<id>") parses one payload, resolves player names through the registry and
// replaces that payload's rows, its rejected records and the affected backlog entries in one
// transaction together with its ledger row. For every parse: read = stored + rejected.
#ifndef NBAPROPS_PIPELINE_INGEST_H_
#define NBAPROPS_PIPELINE_INGEST_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/processor.h"
#include "engine/runner.h"
#include "pipeline/formats.h"

namespace nbaprops::pipeline {

inline constexpr char kParsePayload[] = "parse_payload";
inline constexpr char kStorePayload[] = "store_payload";

// Phase 2 processor; registered with the runner so `run --phase 2` and queued re-parses work.
class ParsePayloadProcessor final : public engine::Processor {
 public:
  std::string name() const override { return kParsePayload; }
  int phase() const override { return 2; }
  std::vector<std::string> output_tables() const override;
  Status Run(engine::RunContext& ctx) override;
};

inline constexpr char kImportInbox[] = "import_inbox";

// Phase 1 on a schedule: imports every file in the configured inbox directory (file-mode
// sources: recorded API responses or CSV drops). Files already imported are no-ops by hash, so
// each run stores only what is new; a file that fails is dead-lettered by its own parse run.
class ImportInboxProcessor final : public engine::Processor {
 public:
  ImportInboxProcessor(engine::Runner& runner, std::string inbox) : runner_(runner), inbox_(std::move(inbox)) {}
  std::string name() const override { return kImportInbox; }
  int phase() const override { return 1; }
  std::vector<std::string> output_tables() const override { return {"raw_payloads"}; }
  // The inbox is the file-mode source: its breaker opens when it stays unreachable.
  std::vector<std::string> sources() const override { return {"inbox"}; }
  Status Run(engine::RunContext& ctx) override;

 private:
  engine::Runner& runner_;
  std::string inbox_;
};

// One payload to land verbatim in raw_payloads: a file's bytes, or an HTTP response body.
struct Landing {
  std::string source = "file";      // file | balldontlie | odds_api | espn
  std::string kind;                 // KindName(), or a land-only kind ("balldontlie_games", "odds_api_events")
  std::string source_key;           // the file path, or the redacted URL
  std::string content;
  std::string url;                  // the request URL with its key redacted; empty for files
  std::optional<int> http_status;
  std::optional<int64_t> duration_ms;
  std::optional<ImportKind> parse;  // run parse_payload (phase 2) on it when set
};

struct ImportResult {
  std::string path;
  ImportKind kind = ImportKind::kUnknown;
  bool skipped = false;          // not a recognised file
  bool already_imported = false;  // same bytes stored before and parsed successfully
  bool fresh = false;             // these bytes were not stored before
  std::string note;              // why skipped, or what happened
  int64_t payload_id = 0;
  int64_t read = 0, stored = 0, rejected = 0, unresolved = 0;
  Status status;
};

class Ingestor {
 public:
  explicit Ingestor(engine::Runner& runner) : runner_(runner) {}

  // Imports files and directories (recursively, in a stable order: players and schedules first,
  // so that later files resolve against them). `forced` skips detection.
  std::vector<ImportResult> ImportPaths(const std::vector<std::string>& paths, std::optional<ImportKind> forced,
                                        const std::function<void(const ImportResult&)>& on_file = nullptr);
  ImportResult ImportFile(const std::string& path, std::optional<ImportKind> forced);
  // Stores the payload (once per content hash) and, when `parse` is set, parses it unless the same
  // bytes were already parsed successfully (an unchanged payload is not reprocessed).
  ImportResult Land(Landing landing);

 private:
  engine::Runner& runner_;
};

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_INGEST_H_
