// Fuzz target: the TOML config parser and its validation (ParseConfig, base/config.h).
// Note: a config may name secret files (token_file, url_file); those are stat()ed and, when mode
// 0600, read. The fuzzer runs with no NBAPROPS_* variables set, as `make fuzz` does.
#include <cmath>

#include "base/config.h"
#include "fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nbaprops;
  auto config = ParseConfig(fuzz::AsText(data, size), "fuzz.toml");
  if (!config.ok()) {
    FUZZ_CHECK(!config.status().message().empty());
    return 0;
  }
  // What validation promises to the rest of the program.
  FUZZ_CHECK(config->lease_ms >= 100 && config->heartbeat_ms * 2 <= config->lease_ms);
  FUZZ_CHECK(config->workers >= 1 && config->max_attempts >= 1);
  FUZZ_CHECK(config->line_policy == "opening" || config->line_policy == "latest");
  FUZZ_CHECK(std::isfinite(config->min_edge) && std::isfinite(config->min_probability));
  FUZZ_CHECK(std::isfinite(config->quality_gate_first) && std::isfinite(config->quality_gate_final));
  FUZZ_CHECK(std::isfinite(config->minutes_alert_below) && std::isfinite(config->minutes_block_below));
  for (const auto& ch : config->alerts.channels) FUZZ_CHECK(std::isfinite(ch.rate_per_s) && ch.burst >= 1);
  return 0;
}
