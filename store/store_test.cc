#include "store/store.h"

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "tests/test_util.h"

namespace nbaprops::store {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

TEST(StoreTest, MigrationsAreIdempotentAndVersioned) {
  TempDir dir;
  auto s = OpenTestStore(dir.File("a.db"));
  EXPECT_EQ(*SchemaVersion(*s), LatestSchemaVersion());
  auto again = Migrate(*s);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

TEST(StoreTest, UncommittedTransactionRollsBack) {
  TempDir dir;
  auto s = OpenTestStore(dir.File("a.db"));
  {
    auto t = s->Begin(TxnMode::kWrite);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES (?, ?, ?)",
                           {"1", "A", "test"})
                    .ok());
  }  // destroyed without Commit
  EXPECT_EQ(Count(*s, "SELECT COUNT(*) FROM reference_players"), 0);
  Status failing = s->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','A','t')")
                        .status());
    return InvalidArgumentError("boom");
  });
  EXPECT_EQ(failing.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(*s, "SELECT COUNT(*) FROM reference_players"), 0);
}

TEST(StoreTest, ParamsRoundTripAndDurableAcrossReopen) {
  TempDir dir;
  {
    auto s = OpenTestStore(dir.File("a.db"));
    ASSERT_TRUE(s->WithWrite([](Transaction& t) {
                   std::optional<int> none;
                   return t.Exec("INSERT INTO raw_schedule (game_id, game_date, tipoff_utc, home_team, away_team, "
                                 "status, home_points, source, payload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 {"g1", "2024-01-31", int64_t{1706661000}, "DEN", "OKC", "final", none, "t", 1})
                       .status();
                 }).ok());
  }
  auto s = OpenTestStore(dir.File("a.db"));
  ASSERT_TRUE(s->WithRead([](Transaction& t) {
                 return t.Query("SELECT tipoff_utc, home_points, home_team FROM raw_schedule", {}, [](const Row& r) {
                   EXPECT_EQ(r.Int(0), 1706661000);
                   EXPECT_TRUE(r.IsNull(1));
                   EXPECT_EQ(r.Text(2), "DEN");
                   return OkStatus();
                 });
               }).ok());
}

TEST(StoreTest, ConstraintViolationIsAlreadyExists) {
  TempDir dir;
  auto s = OpenTestStore(dir.File("a.db"));
  Status st = s->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','A','t')")
                        .status());
    return t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','B','t')").status();
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
}

TEST(StoreTest, BadPathIsAClearError) {
  auto s = OpenStore("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("/nonexistent-dir/x/y.db"), std::string::npos);
}

}  // namespace
}  // namespace nbaprops::store
