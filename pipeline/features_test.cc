#include "pipeline/features.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nbaprops::pipeline {
namespace {

std::vector<std::string> ContractSources() {
  std::vector<std::string> out;
  for (const FeatureSpec& f : FeatureContract()) out.emplace_back(f.source);
  return out;
}

// The stored sources name only the exceptions to the contract, by feature, in contract order.
TEST(FeatureSources, StoresOnlyTheFeaturesWhoseSourceIsNotTheContracts) {
  std::vector<std::string> sources = ContractSources();
  EXPECT_EQ(EncodeSources(sources), "{}");
  sources[FeatureIndex("usage_spike")] = "default:no_injury_report";
  sources[FeatureIndex("pts_avg_l3")] = "default:fewer_games";
  EXPECT_EQ(EncodeSources(sources),
            R"({"pts_avg_l3":"default:fewer_games","usage_spike":"default:no_injury_report"})");
}

}  // namespace
}  // namespace nbaprops::pipeline
