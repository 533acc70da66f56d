// Test helpers: a real SQLite file in a fresh temporary directory, migrated.
#ifndef NBAPROPS_TESTS_TEST_UTIL_H_
#define NBAPROPS_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "base/config.h"
#include "store/migrations.h"
#include "store/store.h"

namespace nbaprops::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nbaprops-test-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = File(name);
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::string path_;
};

inline std::unique_ptr<store::Store> OpenTestStore(const std::string& path) {
  auto s = store::OpenStore(path);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  auto m = store::Migrate(**s);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return std::move(s).value();
}

// Defaults, except that the completeness gates are off: hand-written fixtures hold one or two
// players per team, far below the 80% of team minutes a real box score covers, and too little
// history for production-ready features.
inline Config SmallFixtureConfig() {
  Config c;
  c.minutes_alert_below = 0;
  c.minutes_block_below = 0;
  c.wait_for_quality = false;
  return c;
}

inline int64_t Count(store::Store& s, const std::string& sql) {
  int64_t n = -1;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) -> Status {
                 ASSIGN_OR_RETURN(auto v, t.QueryInt(sql));
                 n = v.value_or(0);
                 return OkStatus();
               }).ok());
  return n;
}

inline std::string SharedData() { return std::string(NBAPROPS_SOURCE_DIR) + "/../shared/data"; }
inline bool HaveSharedData() { return std::filesystem::exists(SharedData()); }

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_TEST_UTIL_H_
