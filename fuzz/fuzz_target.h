// What every fuzz target in fuzz/ shares: the libFuzzer entry point's signature and the checks a
// target makes on a parser's answer. A target defines
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
//
// calls one parser with the bytes and returns 0. The contract it enforces: a parser never throws
// out of its API, never aborts, never hangs and never reads out of bounds; a bad input is an error
// Status or a Reject. Exceptions are deliberately not caught here: one that escapes is a finding.
// Built two ways (fuzz/CMakeLists.txt): with libFuzzer under clang, or with fuzz/replay_main.cc
// as a plain program that replays the corpus and the regression inputs in `make test`.
#ifndef NBAPROPS_FUZZ_FUZZ_TARGET_H_
#define NBAPROPS_FUZZ_FUZZ_TARGET_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// Like assert, but also in release builds: a broken parser invariant is a finding.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace nbaprops::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Splits "<first line>\n<rest>": targets that take a file name or an option before the payload.
// The first line is at most `max_first` bytes; without a newline the whole input is the rest.
inline std::string_view TakeLine(std::string_view* text, size_t max_first) {
  size_t nl = text->substr(0, max_first + 1).find('\n');
  if (nl == std::string_view::npos) return {};
  std::string_view first = text->substr(0, nl);
  text->remove_prefix(nl + 1);
  return first;
}

}  // namespace nbaprops::fuzz

#endif  // NBAPROPS_FUZZ_FUZZ_TARGET_H_
