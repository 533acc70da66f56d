// The store conformance suite: every case runs on SQLite and on PostgreSQL (a fresh schema in the
// throwaway cluster ctest starts). Backend-specific cases say so in their name.
#include "store/store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "store/copy.h"
#include "store/migrations.h"
#include "tests/test_util.h"

namespace nbaprops::store {
namespace {

using nbaprops::testing::Count;
using nbaprops::testing::OpenTestStore;
using nbaprops::testing::TempDir;

class StoreConformance : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = nbaprops::testing::NewBackendUrl(GetParam(), dir_, &skip_);
    if (url_.empty()) GTEST_SKIP() << skip_;
    store_ = OpenTestStore(url_);
    ASSERT_TRUE(store_->WithWrite([](Transaction& t) {
                        return t.Exec("CREATE TABLE conf (id INTEGER PRIMARY KEY, k TEXT UNIQUE, i INTEGER, d REAL, "
                                      "s TEXT, b BLOB)")
                            .status();
                      }).ok());
  }
  Status Write(const std::string& sql, const Params& p = {}) {
    return store_->WithWrite([&](Transaction& t) { return t.Exec(sql, p).status(); });
  }

  TempDir dir_;
  std::string url_, skip_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, nbaprops::testing::BackendValues(),
                         nbaprops::testing::BackendName);

TEST_P(StoreConformance, MigrationsAreIdempotentAndVersioned) {
  EXPECT_EQ(store_->backend(), GetParam());
  EXPECT_EQ(*SchemaVersion(*store_), LatestSchemaVersion());
  auto again = Migrate(*store_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0);
}

TEST_P(StoreConformance, UncommittedTransactionRollsBack) {
  {
    auto t = store_->Begin(TxnMode::kWrite);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES (?, ?, ?)",
                           {"1", "A", "test"})
                    .ok());
  }  // destroyed without Commit
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM reference_players"), 0);
  Status failing = store_->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','A','t')")
                        .status());
    return InvalidArgumentError("boom");
  });
  EXPECT_EQ(failing.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM reference_players"), 0);
}

TEST_P(StoreConformance, AFailedStatementRollsBackTheWholeWrite) {
  Status st = store_->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO conf (k, i) VALUES ('a', 1)").status());
    return t.Exec("INSERT INTO conf (k, i) VALUES ('a', 2)").status();  // duplicate k
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf"), 0);
}

TEST_P(StoreConformance, ParamsRoundTripAndDurableAcrossReopen) {
  ASSERT_TRUE(store_->WithWrite([](Transaction& t) {
                      std::optional<int> none;
                      return t.Exec("INSERT INTO raw_schedule (game_id, game_date, tipoff_utc, home_team, away_team, "
                                    "status, home_points, source, payload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                    {"g1", "2024-01-31", int64_t{1706661000}, "DEN", "OKC", "final", none, "t", 1})
                          .status();
                    }).ok());
  store_.reset();
  auto s = OpenTestStore(url_);
  ASSERT_TRUE(s->WithRead([](Transaction& t) {
                 return t.Query("SELECT tipoff_utc, home_points, home_team FROM raw_schedule", {}, [](const Row& r) {
                   EXPECT_EQ(r.Int(0), 1706661000);
                   EXPECT_TRUE(r.IsNull(1));
                   EXPECT_EQ(r.Text(2), "DEN");
                   return OkStatus();
                 });
               }).ok());
}

TEST_P(StoreConformance, ValuesRoundTripExactly) {
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  const double third = 1.0 / 3.0, tiny = 4.9e-324, huge = 1.7976931348623157e308;
  const std::string name = "Nikola Jokić — \"Joker\" 'Ω'";
  ASSERT_TRUE(Write("INSERT INTO conf (k, i, d, s) VALUES (?, ?, ?, ?)", {"max", big, third, name}).ok());
  ASSERT_TRUE(Write("INSERT INTO conf (k, i, d, s) VALUES (?, ?, ?, ?)", {"min", small, tiny, ""}).ok());
  ASSERT_TRUE(Write("INSERT INTO conf (k, i, d, s) VALUES (?, ?, ?, ?)", {"bool", true, huge, nullptr}).ok());
  ASSERT_TRUE(Write("INSERT INTO conf (k, i, d) VALUES (?, ?, ?)", {"inf", std::optional<int64_t>(), INFINITY}).ok());
  std::map<std::string, std::tuple<std::optional<int64_t>, double, std::optional<std::string>>> got;
  ASSERT_TRUE(store_->WithRead([&](Transaction& t) {
                      return t.Query("SELECT k, i, d, s FROM conf", {}, [&](const Row& r) {
                        got[r.Text(0)] = {r.OptInt(1), r.Double(2), r.OptText(3)};
                        return OkStatus();
                      });
                    }).ok());
  EXPECT_EQ(std::get<0>(got["max"]), big);
  EXPECT_EQ(std::get<1>(got["max"]), third);
  EXPECT_EQ(std::get<2>(got["max"]), name);
  EXPECT_EQ(std::get<0>(got["min"]), small);
  EXPECT_EQ(std::get<1>(got["min"]), tiny);
  EXPECT_EQ(std::get<2>(got["min"]), std::string());  // empty text is not NULL
  EXPECT_EQ(std::get<0>(got["bool"]), 1);
  EXPECT_EQ(std::get<1>(got["bool"]), huge);
  EXPECT_EQ(std::get<2>(got["bool"]), std::nullopt);
  EXPECT_EQ(std::get<0>(got["inf"]), std::nullopt);
  EXPECT_TRUE(std::isinf(std::get<1>(got["inf"])));
}

TEST_P(StoreConformance, BlobsKeepArbitraryBytes) {
  const std::string bytes("\0\xff\xfe{\"a\":\n\x80}\0", 12);
  ASSERT_TRUE(Write("INSERT INTO conf (k, b) VALUES ('blob', ?)", {bytes}).ok());
  auto tx = store_->Begin(TxnMode::kRead);
  auto back = (*tx)->QueryText("SELECT b FROM conf WHERE k = 'blob'");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(**back, bytes);
}

TEST_P(StoreConformance, LastInsertIdIsTheNewRowsKey) {
  int64_t a = 0, b = 0;
  ASSERT_TRUE(store_->WithWrite([&](Transaction& t) -> Status {
                      RETURN_IF_ERROR(t.Exec("INSERT INTO conf (k) VALUES ('a')").status());
                      ASSIGN_OR_RETURN(a, t.LastInsertId());
                      RETURN_IF_ERROR(t.Exec("INSERT INTO conf (k) VALUES ('b')").status());
                      ASSIGN_OR_RETURN(b, t.LastInsertId());
                      return OkStatus();
                    }).ok());
  EXPECT_GT(b, a);
  EXPECT_EQ(Count(*store_, "SELECT id FROM conf WHERE k = 'b'"), b);
}

TEST_P(StoreConformance, ChangedRowsAreCountedAndUpsertsUpdate) {
  ASSERT_TRUE(store_->WithWrite([&](Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto st, t.Prepare("INSERT INTO conf (k, i) VALUES (?, ?) "
                                                          "ON CONFLICT (k) DO UPDATE SET i = excluded.i + conf.i"));
                      for (int i = 0; i < 10; ++i) RETURN_IF_ERROR(st->Exec({"k" + std::to_string(i % 4), i}).status());
                      ASSIGN_OR_RETURN(int64_t n, t.Exec("UPDATE conf SET d = ? WHERE i >= ?", {1.5, 10}));
                      EXPECT_EQ(n, 3);  // k0 = 0+4+8 = 12, k1 = 1+5+9 = 15, k2 = 2+6 = 8, k3 = 3+7 = 10
                      ASSIGN_OR_RETURN(n, t.Exec("DELETE FROM conf WHERE k IN (?, ?, ?)", {"k0", "k1", "nope"}));
                      EXPECT_EQ(n, 2);
                      return OkStatus();
                    }).ok());
  EXPECT_EQ(Count(*store_, "SELECT SUM(i) FROM conf"), 18);
}

TEST_P(StoreConformance, PreparedStatementsTakeNullsAndValuesInAnyOrder) {
  ASSERT_TRUE(store_->WithWrite([&](Transaction& t) -> Status {
                      ASSIGN_OR_RETURN(auto st, t.Prepare("INSERT INTO conf (k, i, d) VALUES (?, ?, ?)"));
                      RETURN_IF_ERROR(st->Exec({"a", nullptr, nullptr}).status());
                      RETURN_IF_ERROR(st->Exec({"b", 7, 2}).status());      // an int into the REAL column
                      RETURN_IF_ERROR(st->Exec({"c", 8, 2.25}).status());
                      return OkStatus();
                    }).ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf WHERE i IS NULL AND d IS NULL"), 1);
  EXPECT_EQ(Count(*store_, "SELECT SUM(i) FROM conf"), 15);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf WHERE d > 2.1"), 1);
}

TEST_P(StoreConformance, NumberedParametersLikeAndColumnNames) {
  ASSERT_TRUE(Write("INSERT INTO conf (k, s) VALUES (?1, ?1 || ?2)", {"Jokic", "!"}).ok());
  ASSERT_TRUE(store_->WithRead([&](Transaction& t) {
                      return t.Query("SELECT k AS who, s FROM conf WHERE k LIKE ?", {"jok%"}, [&](const Row& r) {
                        EXPECT_EQ(r.ColumnName(0), "who");
                        EXPECT_EQ(r.Text(1), "Jokic!");
                        return OkStatus();
                      });
                    }).ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf WHERE k LIKE 'JOK%'"), 1);  // LIKE ignores ASCII case
}

TEST_P(StoreConformance, MisuseIsAnErrorNotACrash) {
  auto tx = store_->Begin(TxnMode::kWrite);
  ASSERT_TRUE(tx.ok());
  auto st = (*tx)->Exec("INSERT INTO conf (k, i) VALUES (?, ?)", {"only one"});
  EXPECT_EQ(st.status().code(), StatusCode::kInternal);
  EXPECT_NE(st.status().message().find("expects 2 parameters, got 1"), std::string::npos) << st.status().message();
}

TEST_P(StoreConformance, CommitTwiceIsAnError) {
  auto tx = store_->Begin(TxnMode::kWrite);
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->Exec("INSERT INTO conf (k) VALUES ('x')").ok());
  EXPECT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ((*tx)->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf"), 1);
}

// ExecLater: the statement runs in order before anything after it; its error comes back from the
// next call (or the commit) and the whole write rolls back; a transaction dropped with only
// deferred statements writes nothing.
TEST_P(StoreConformance, DeferredStatementsRunInOrderAndReportTheirErrors) {
  const int i0 = 7;
  ASSERT_TRUE(store_->WithWrite([&](Transaction& t) -> Status {
                    RETURN_IF_ERROR(t.ExecLater("INSERT INTO conf (k, i) VALUES ('a', 1)"));
                    RETURN_IF_ERROR(t.ExecLater("UPDATE conf SET i = i + 1 WHERE k = ?", {"a"}));
                    // A text parameter that dies before the statement is sent (a Param is a view).
                    RETURN_IF_ERROR(t.ExecLater("UPDATE conf SET s = ? WHERE k = 'a'",
                                                {std::string(40, 'x') + std::to_string(i0)}));
                    ASSIGN_OR_RETURN(auto i, t.QueryInt("SELECT i FROM conf WHERE k = 'a'"));
                    if (i != 2) return InternalError("deferred statements not applied in order");
                    return t.ExecLater("INSERT INTO conf (k, i) VALUES ('b', 1)");  // sent with the commit
                  }).ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf"), 2);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf WHERE s = '" + std::string(40, 'x') + "7'"), 1);
  Status at_next_call = store_->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.ExecLater("INSERT INTO conf (k, i) VALUES ('c', 1)"));
    RETURN_IF_ERROR(t.ExecLater("INSERT INTO conf (k, i) VALUES ('a', 9)"));  // duplicate k
    return t.Exec("INSERT INTO conf (k, i) VALUES ('d', 1)").status();
  });
  EXPECT_EQ(at_next_call.code(), StatusCode::kAlreadyExists) << at_next_call.ToString();
  Status at_commit = store_->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO conf (k, i) VALUES ('e', 1)").status());
    return t.ExecLater("INSERT INTO conf (k, i) VALUES ('b', 9)");  // duplicate k
  });
  EXPECT_EQ(at_commit.code(), StatusCode::kAlreadyExists) << at_commit.ToString();
  {
    auto t = store_->Begin(TxnMode::kWrite);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE((*t)->ExecLater("INSERT INTO conf (k, i) VALUES ('f', 1)").ok());
  }  // dropped
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf"), 2);
}

TEST_P(StoreConformance, ConstraintViolationIsAlreadyExists) {
  Status st = store_->WithWrite([](Transaction& t) -> Status {
    RETURN_IF_ERROR(t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','A','t')")
                        .status());
    return t.Exec("INSERT INTO reference_players (player_id, canonical_name, origin) VALUES ('1','B','t')").status();
  });
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
}

// Writers are serialized: read-modify-write increments from several threads (each with its own
// connection) never lose an update.
TEST_P(StoreConformance, WriteTransactionsAreSerialized) {
  ASSERT_TRUE(Write("INSERT INTO conf (k, i) VALUES ('n', 0)").ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        Status s = store_->WithWrite([](Transaction& t) -> Status {
          ASSIGN_OR_RETURN(auto n, t.QueryInt("SELECT i FROM conf WHERE k = 'n'"));
          return t.Exec("UPDATE conf SET i = ? WHERE k = 'n'", {*n + 1}).status();
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*store_, "SELECT i FROM conf WHERE k = 'n'"), 200);
}

// A read transaction sees one snapshot: a commit made meanwhile is not half-visible.
TEST_P(StoreConformance, ReadTransactionSeesOneSnapshot) {
  ASSERT_TRUE(Write("INSERT INTO conf (k) VALUES ('a')").ok());
  auto tx = store_->Begin(TxnMode::kRead);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(*(*tx)->QueryInt("SELECT COUNT(*) FROM conf"), 1);
  ASSERT_TRUE(Write("INSERT INTO conf (k) VALUES ('b')").ok());
  EXPECT_EQ(*(*tx)->QueryInt("SELECT COUNT(*) FROM conf"), 1);
  EXPECT_TRUE((*tx)->Commit().ok());
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM conf"), 2);
}

// `nbaprops migrate`: a SQLite database copied into this backend keeps every value exactly, new
// rows get fresh keys after the copied ones, and a second copy into the now non-empty target is
// refused without changing it.
TEST_P(StoreConformance, CopyDatabaseFromSqliteKeepsEveryValue) {
  TempDir src_dir;
  auto src = OpenTestStore(src_dir.File("src.db"));
  const std::string bytes("\0\xff{", 3);
  ASSERT_TRUE(src->WithWrite([&](Transaction& t) -> Status {
                   RETURN_IF_ERROR(t.Exec("INSERT INTO raw_payloads (source, kind, source_key, content_hash, size_bytes, "
                                          "fetched_at, content) VALUES ('file', 'x', 'k', 'h', 3, 1, ?)",
                                          {bytes})
                                       .status());
                   return t.Exec("INSERT INTO processor_runs (processor, phase, partition_key, status, trigger, "
                                 "queued_at, details) VALUES ('p', 3, '2024-01-01', 'succeeded', 'manual', 5, ?)",
                                 {"0.1"})
                       .status();
                 }).ok());
  auto copied = CopyDatabase(*src, *store_);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs WHERE details = '0.1' AND queued_at = 5"), 1);
  auto tx = store_->Begin(TxnMode::kWrite);
  EXPECT_EQ(*(*tx)->QueryText("SELECT content FROM raw_payloads"), bytes);
  ASSERT_TRUE((*tx)->Exec("INSERT INTO processor_runs (processor, phase, partition_key, status, trigger, queued_at) "
                          "VALUES ('p', 3, '2024-01-02', 'queued', 'manual', 6)")
                  .ok());
  EXPECT_GT(*(*tx)->LastInsertId(), 1);
  ASSERT_TRUE((*tx)->Commit().ok());
  tx->reset();  // a finished SQLite write transaction holds the writer lock until destroyed
  auto again = CopyDatabase(*src, *store_);
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Count(*store_, "SELECT COUNT(*) FROM processor_runs"), 2);
}

TEST(StoreTest, BadPathIsAClearError) {
  auto s = OpenStore("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("/nonexistent-dir/x/y.db"), std::string::npos);
}

TEST(StoreTest, UnreachablePostgresIsAClearErrorWithoutThePassword) {
  auto s = OpenStore("postgresql://nbaprops:s3cret-pw@127.0.0.1:1/prod");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(s.status().message().find("postgresql://nbaprops@127.0.0.1:1/prod"), std::string::npos)
      << s.status().message();
  EXPECT_EQ(s.status().message().find("s3cret-pw"), std::string::npos);
}

}  // namespace
}  // namespace nbaprops::store
