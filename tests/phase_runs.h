// Helpers of the season-scale pipeline tests: import a bundled season, run a phase for a date and
// fail the test on any processor's error.
#ifndef NBAPROPS_TESTS_PHASE_RUNS_H_
#define NBAPROPS_TESTS_PHASE_RUNS_H_

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "engine/runner.h"
#include "pipeline/ingest.h"
#include "pipeline/pipeline.h"

namespace nbaprops::testing {

// data/<bundle> of the source tree, every file of it imported.
inline void ImportBundle(engine::Runner& runner, const std::string& bundle) {
  pipeline::Ingestor ing(runner);
  for (const auto& r : ing.ImportPaths({std::string(NBAPROPS_SOURCE_DIR) + "/data/" + bundle}, std::nullopt)) {
    ASSERT_TRUE(r.status.ok()) << r.path << ": " << r.status.ToString();
  }
}

inline void RunOk(engine::Runner& runner, const std::string& date, int phase) {
  for (const auto& [name, o] : pipeline::RunDate(runner, date, phase, "manual").outcomes) {
    ASSERT_TRUE(o.status.ok()) << date << " " << name << ": " << o.status.ToString();
  }
}

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_PHASE_RUNS_H_
