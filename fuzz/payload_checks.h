// Checks shared by the targets that parse import payloads: what every answer of the parsers in
// pipeline/formats.h and pipeline/api_formats.h must satisfy, whatever the bytes were.
#ifndef NBAPROPS_FUZZ_PAYLOAD_CHECKS_H_
#define NBAPROPS_FUZZ_PAYLOAD_CHECKS_H_

#include <cmath>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "fuzz/fuzz_target.h"
#include "pipeline/records.h"

namespace nbaprops::fuzz {

// Every reject says where and why, located in the payload it came from; its raw text is bounded.
inline void CheckRejects(const std::vector<pipeline::Reject>& rejects, std::string_view name) {
  for (const pipeline::Reject& r : rejects) {
    FUZZ_CHECK(!r.reason.empty());
    FUZZ_CHECK(std::string_view(r.location).substr(0, name.size()) == name);
    FUZZ_CHECK(r.raw.size() <= 4096);
  }
}

// Every record names its location in the payload.
template <typename Record>
void CheckRecords(const std::vector<Record>& records, std::string_view name) {
  for (const Record& r : records) FUZZ_CHECK(std::string_view(r.location).substr(0, name.size()) == name);
}

// A prop that reaches the store has a real line.
inline void CheckProps(const std::vector<pipeline::PropRecord>& props) {
  for (const pipeline::PropRecord& p : props) FUZZ_CHECK(std::isfinite(p.line) && p.line > 0);
}

// A refusal must explain itself.
inline void CheckError(const Status& st) { FUZZ_CHECK(!st.ok() && !st.message().empty()); }

}  // namespace nbaprops::fuzz

#endif  // NBAPROPS_FUZZ_PAYLOAD_CHECKS_H_
