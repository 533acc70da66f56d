// Test helpers: a real SQLite file in a fresh temporary directory, migrated; or, for the
// conformance tests that run on both backends, a fresh schema in the throwaway PostgreSQL
// cluster that ctest starts (tests/pg_cluster.sh).
#ifndef NBAPROPS_TESTS_TEST_UTIL_H_
#define NBAPROPS_TESTS_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "base/config.h"
#include "base/file.h"
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

// The backends every conformance test runs on (INSTANTIATE_TEST_SUITE_P(..., BackendValues(),
// BackendName)).
inline auto BackendValues() { return ::testing::Values(std::string("sqlite"), std::string("postgresql")); }
inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

// The URL of the test PostgreSQL cluster: NBAPROPS_TEST_PG_URL, else the one ctest's fixture
// started. Empty when there is none, with the reason in *why.
inline std::string PgClusterUrl(std::string* why) {
  if (const char* env = std::getenv("NBAPROPS_TEST_PG_URL"); env && *env) return env;
  const std::string dir = NBAPROPS_PG_DIR;
  std::string line;
  if (std::ifstream(dir + "/url") >> line) return line;
  if (std::ifstream skip(dir + "/skip"); skip) {
    std::getline(skip, line);
    *why = "PostgreSQL tests skipped: " + line;
  } else {
    *why =
        "PostgreSQL tests skipped: no test cluster (run them through ctest, which starts one with "
        "tests/pg_cluster.sh, or set NBAPROPS_TEST_PG_URL)";
  }
  return "";
}

// A URL for a new, empty schema of its own in the test cluster (tests run in parallel).
inline std::string NewPgSchemaUrl(const std::string& cluster) {
  static std::atomic<int> counter{0};
  std::string schema = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + "_" +
                       std::to_string(std::random_device{}() % 100000);
  auto admin = store::OpenStore(cluster);
  EXPECT_TRUE(admin.ok()) << admin.status().ToString();
  if (!admin.ok()) return "";
  EXPECT_TRUE(
      (*admin)->WithWrite([&](store::Transaction& t) { return t.Exec("CREATE SCHEMA " + schema).status(); }).ok());
  return cluster + (cluster.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
}

// The URL of a fresh database on `backend` ("sqlite": a file in dir), or "" with *skip set.
inline std::string NewBackendUrl(const std::string& backend, const TempDir& dir, std::string* skip) {
  if (backend == "sqlite") return dir.File("conformance.db");
  std::string cluster = PgClusterUrl(skip);
  return cluster.empty() ? "" : NewPgSchemaUrl(cluster);
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

inline int64_t Count(store::Store& s, const std::string& sql, const store::Params& params = {}) {
  int64_t n = -1;
  EXPECT_TRUE(s.WithRead([&](store::Transaction& t) -> Status {
                 ASSIGN_OR_RETURN(auto v, t.QueryInt(sql, params));
                 n = v.value_or(0);
                 return OkStatus();
               }).ok());
  return n;
}

// What `read` (store::Transaction& -> StatusOr<T>) returns, in a read transaction of its own; a
// failure fails the test and gives T().
template <typename T, typename Fn>
T ReadValue(store::Store& s, Fn read) {
  T out{};
  const Status st = s.WithRead([&](store::Transaction& t) -> Status {
    ASSIGN_OR_RETURN(out, read(t));
    return OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

// A file's bytes, or "" when it cannot be read (logs a test prints on failure, and may not exist).
inline std::string FileText(const std::string& path) {
  auto text = ReadFile(path);
  return text.ok() ? *text : "";
}

inline std::string SharedData() { return std::string(NBAPROPS_SOURCE_DIR) + "/../shared/data"; }
inline bool HaveSharedData() { return std::filesystem::exists(SharedData()); }

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_TEST_UTIL_H_
