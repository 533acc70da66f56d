// The feature contract of the ml_feature_store (phase 4), in one place: every feature's name,
// position, meaning, where it comes from and whether a pick may rest on a defaulted value of it.
// A model file records the version it was trained with and is refused under any other.
//
// Changing a feature's meaning, order or the list means a new kFeatureVersion.
#ifndef NBAPROPS_PIPELINE_FEATURES_H_
#define NBAPROPS_PIPELINE_FEATURES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace nbaprops::pipeline {

inline constexpr std::string_view kFeatureVersion = "points-v3";

struct FeatureSpec {
  std::string_view name;
  std::string_view description;
  std::string_view source;  // the table (or rule) the observed value comes from
  bool critical;            // a row with this feature defaulted or missing is not production-ready
};

// Per value: observed from its source; defaulted (a fallback stood in, e.g. fewer than N
// games); or missing (NaN, left for the model's missing-value handling).
enum class FeatureQuality : char { kObserved = 'o', kDefaulted = 'd', kMissing = 'm' };

const std::vector<FeatureSpec>& FeatureContract();
// Index of a feature by name; -1 when the contract has no such feature.
int FeatureIndex(std::string_view name);

// One ml_feature_store row.
struct FeatureRow {
  std::string game_date, game_id, player_id, team, opponent;
  std::string version{kFeatureVersion};
  std::vector<double> values;        // FeatureContract().size() entries, NaN when missing
  std::string quality;               // one FeatureQuality character per feature
  std::vector<std::string> sources;  // per feature: its source, or "default:<rule>"
  double quality_score = 0;          // percent of features observed
  bool production_ready = false;
  std::string not_ready_reason;      // which critical features were not observed

  double at(std::string_view name) const;  // NaN for an unknown name
};

// Text encodings used by the table (and compared byte for byte by the point-in-time test).
std::string EncodeValues(const std::vector<double>& values);
StatusOr<std::vector<double>> DecodeValues(std::string_view json, size_t expected);
// The sources that differ from the contract's own (the defaulted features' "default:<rule>"), as
// a JSON object by feature name in contract order; "{}" when every feature came from where the
// contract says. Only the exceptions are stored: the full list repeated the contract on every
// row and was most of the bytes phase 4 wrote (rows written before this hold the full array).
std::string EncodeSources(const std::vector<std::string>& sources);

// Fills quality_score, production_ready and not_ready_reason from quality.
void Assess(FeatureRow& row);

}  // namespace nbaprops::pipeline

#endif  // NBAPROPS_PIPELINE_FEATURES_H_
