// A full disk, for real: the SQLite database on a small tmpfs, filled to a couple of megabytes
// free while a backfill runs.
//   - the backfill fails, exit code non-zero, and says which disk is full and what to do;
//   - `doctor` reports the database's disk as FAIL;
//   - the database passes PRAGMA integrity_check and every row written before is still there;
//   - once space is freed, the same backfill completes and every domain table equals a backfill
//     that never ran out of space (tests/table_snapshot.h).
// Mounting needs root: without it (or without tmpfs) the test is skipped, saying so.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/process_util.h"
#include "tests/table_snapshot.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

namespace fs = std::filesystem;
using testing::Bin;
using ::testing::HasSubstr;
using testing::Sh;
using testing::TempDir;

int64_t FreeBytes(const std::string& dir) {
  struct statvfs v {};
  return ::statvfs(dir.c_str(), &v) == 0 ? static_cast<int64_t>(v.f_bavail) * static_cast<int64_t>(v.f_frsize) : -1;
}

// Rows of `want` missing from `got`, table by table: "" when every row is still there.
std::string MissingRows(const testing::TableSnapshot& want, const testing::TableSnapshot& got) {
  for (const auto& [table, rows] : want) {
    const auto& other = got.at(table);
    for (const std::string& r : rows) {
      if (!std::binary_search(other.begin(), other.end(), r)) return table + " lost a row: " + r;
    }
  }
  return "";
}

TEST(DiskFullTest, ABackfillOnAFullDiskFailsLoudlyLosesNothingAndCompletesOnceSpaceIsFreed) {
  TempDir dir;
  const std::string mnt = dir.File("small-disk");
  fs::create_directories(mnt);
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs (run the tests as root)";
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=96m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs at " << mnt << ": " << std::strerror(errno);
  }
  struct Unmount {
    std::string at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};

  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string imported = dir.File("imported.db"), clean = dir.File("clean.db");
  const std::string env = "NBAPROPS_EXPORT_DIR=" + dir.File("exports") + " ";
  ASSERT_EQ(Sh(Bin() + " init --db " + imported + " > /dev/null"), 0);
  ASSERT_EQ(Sh(Bin() + " import -q " + data + " --db " + imported + " > /dev/null"), 0);
  fs::copy_file(imported, clean);
  const std::string first = " --from 2023-10-24 --to 2023-10-27", rest = " --from 2023-10-28 --to 2023-11-03";
  ASSERT_EQ(Sh(env + Bin() + " backfill -q --from 2023-10-24 --to 2023-11-03 --db " + clean + " > /dev/null"), 0);

  // The first dates on the small disk, then fill it to 2 MB free.
  const std::string db = mnt + "/nbaprops.db";
  fs::copy_file(imported, db);
  ASSERT_EQ(Sh(env + Bin() + " backfill -q" + first + " --db " + db + " > /dev/null"), 0);
  const testing::TableSnapshot before = [&] {
    auto s = testing::OpenTestStore(db);
    return testing::Snapshot(*s);
  }();
  const int64_t spare = 2 << 20, free_now = FreeBytes(mnt);
  ASSERT_GT(free_now, spare) << "the tmpfs is already full";
  const std::string filler = mnt + "/filler";
  ASSERT_EQ(Sh("fallocate -l " + std::to_string(free_now - spare) + " " + filler), 0);

  // The backfill fails and says which disk is full and what to do.
  const std::string log = dir.File("backfill-full.log");
  EXPECT_NE(Sh(env + Bin() + " backfill" + rest + " --db " + db + " > " + log + " 2>&1"), 0) << testing::FileText(log);
  const std::string out = testing::FileText(log);
  EXPECT_THAT(out, HasSubstr("the disk holding " + db + " is full")) << out;
  EXPECT_THAT(out, HasSubstr("free space there and retry")) << out;

  // doctor says so too.
  const std::string doctor = dir.File("doctor.json");
  Sh(Bin() + " --json doctor --db " + db + " > " + doctor + " 2>/dev/null");
  auto checks = nlohmann::json::parse(testing::FileText(doctor), nullptr, false);
  ASSERT_FALSE(checks.is_discarded()) << testing::FileText(doctor);
  // (FAIL on any disk this small; what shows the filling is the free space it reports.)
  std::string disk_status;
  double free_mib = -1;
  for (const auto& c : checks["checks"]) {
    if (c["check"] != "disk (database)") continue;
    disk_status = c["status"];
    std::sscanf(c["detail"].get<std::string>().c_str(), "%lf MiB free", &free_mib);
  }
  EXPECT_EQ(disk_status, "FAIL") << checks.dump(2);
  EXPECT_GE(free_mib, 0) << checks.dump(2);
  EXPECT_LT(free_mib, 3) << checks.dump(2);

  // Nothing already stored is lost or corrupted.
  {
    auto s = testing::OpenTestStore(db);
    std::string integrity;
    ASSERT_TRUE(s->WithRead([&](store::Transaction& t) -> Status {
                   ASSIGN_OR_RETURN(auto v, t.QueryText("PRAGMA integrity_check"));
                   integrity = v.value_or("");
                   return OkStatus();
                 }).ok());
    EXPECT_EQ(integrity, "ok");
    const std::string lost = MissingRows(before, testing::Snapshot(*s));
    EXPECT_TRUE(lost.empty()) << lost;
  }

  // Space freed, the same backfill completes and the tables equal a backfill with room to spare.
  fs::remove(filler);
  const std::string retry_log = dir.File("backfill-retry.log");
  EXPECT_EQ(Sh(env + Bin() + " backfill -q" + rest + " --db " + db + " > " + retry_log + " 2>&1"), 0)
      << testing::FileText(retry_log);
  auto clean_store = testing::OpenTestStore(clean);
  auto s = testing::OpenTestStore(db);
  const std::string diff = testing::SnapshotDiff(testing::Snapshot(*clean_store), testing::Snapshot(*s));
  EXPECT_TRUE(diff.empty()) << "after the disk was freed, the tables differ from a clean backfill's: " << diff;
}

}  // namespace
}  // namespace nbaprops
