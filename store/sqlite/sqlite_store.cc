#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace nbaprops::store::sqlite {
namespace {

// One open database handle with its prepared-statement cache.
struct Connection {
  sqlite3* db = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache;
  ~Connection() {
    for (auto& [sql, st] : cache) sqlite3_finalize(st);
    if (db) sqlite3_close_v2(db);
  }
};

// "the disk holding FILE is full (N MB free in DIR)": what an operator needs to act on a full disk.
std::string DiskFullHint(sqlite3* db) {
  const char* file = db ? sqlite3_db_filename(db, "main") : nullptr;
  if (!file || !*file) return "the disk is full";
  const std::string dir = std::filesystem::path(file).parent_path().string();
  std::string out = std::string("the disk holding ") + file + " is full";
  struct statvfs vfs;
  if (::statvfs(dir.empty() ? "." : dir.c_str(), &vfs) == 0) {
    const double free_mb = static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize) / (1024.0 * 1024.0);
    char buf[96];
    std::snprintf(buf, sizeof buf, " (%.1f MiB free in %s)", free_mb, dir.empty() ? "." : dir.c_str());
    out += buf;
  }
  return out + "; free space there and retry (`nbaprops doctor` checks it)";
}

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int primary = rc & 0xff;
  if (primary == SQLITE_FULL || (primary == SQLITE_IOERR && db && sqlite3_system_errno(db) == ENOSPC)) {
    return UnavailableError(msg + ": " + DiskFullHint(db));
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return UnavailableError(msg + " (database is busy; retry)");
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return DataLossError(msg);
  if (primary == SQLITE_CONSTRAINT) return AlreadyExistsError(msg);
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY || primary == SQLITE_IOERR) return UnavailableError(msg);
  return InternalError(msg);
}

class SqliteRow final : public Row {
 public:
  explicit SqliteRow(sqlite3_stmt* st) : st_(st) {}
  int size() const override { return sqlite3_column_count(st_); }
  bool IsNull(int c) const override { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  int64_t Int(int c) const override { return sqlite3_column_int64(st_, c); }
  double Double(int c) const override { return sqlite3_column_double(st_, c); }
  std::string Text(int c) const override {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(st_, c))) : std::string();
  }
  std::string ColumnName(int c) const override { return sqlite3_column_name(st_, c); }
  Param::Type TypeOf(int c) const override {
    switch (sqlite3_column_type(st_, c)) {
      case SQLITE_NULL:
        return Param::Type::kNull;
      case SQLITE_INTEGER:
        return Param::Type::kInt;
      case SQLITE_FLOAT:
        return Param::Type::kDouble;
      default:
        return Param::Type::kText;
    }
  }

 private:
  sqlite3_stmt* st_;
};

Status Bind(sqlite3* db, sqlite3_stmt* st, const Params& params) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  int expected = sqlite3_bind_parameter_count(st);
  if (expected != static_cast<int>(params.size())) {
    return InternalError("statement expects " + std::to_string(expected) + " parameters, got " +
                         std::to_string(params.size()) + ": " + sqlite3_sql(st));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    const Param& p = params[i];
    int rc = SQLITE_OK;
    switch (p.type()) {
      case Param::Type::kNull:
        rc = sqlite3_bind_null(st, idx);
        break;
      case Param::Type::kInt:
        rc = sqlite3_bind_int64(st, idx, p.int_value());
        break;
      case Param::Type::kDouble:
        rc = sqlite3_bind_double(st, idx, p.double_value());
        break;
      case Param::Type::kText:
        rc = sqlite3_bind_text(st, idx, p.text_value().data(), static_cast<int>(p.text_value().size()), SQLITE_STATIC);
        break;
    }
    if (rc != SQLITE_OK) return SqliteError(db, rc, "bind");
  }
  return OkStatus();
}

// Steps a bound statement to completion, calling fn per row.
Status StepAll(sqlite3* db, sqlite3_stmt* st, const RowFn* fn) {
  SqliteRow row(st);
  while (true) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      if (fn) {
        Status s = (*fn)(row);
        if (!s.ok()) {
          sqlite3_reset(st);
          return s;
        }
      }
      continue;
    }
    Status out = rc == SQLITE_DONE ? OkStatus() : SqliteError(db, rc, std::string("executing ") + sqlite3_sql(st));
    sqlite3_reset(st);
    return out;
  }
}

class SqliteStore;

class SqliteStatement final : public Statement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  StatusOr<int64_t> Exec(const Params& params) override {
    RETURN_IF_ERROR(Bind(db_, st_, params));
    RETURN_IF_ERROR(StepAll(db_, st_, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_;  // owned by the connection's cache
};

class SqliteTransaction final : public Transaction {
 public:
  SqliteTransaction(SqliteStore* store, std::unique_ptr<Connection> conn, std::unique_lock<std::mutex> write_lock)
      : store_(store), conn_(std::move(conn)), write_lock_(std::move(write_lock)) {}
  ~SqliteTransaction() override;

  StatusOr<sqlite3_stmt*> Get(std::string_view sql) {
    std::string key(sql);
    auto it = conn_->cache.find(key);
    if (it != conn_->cache.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v3(conn_->db, key.c_str(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &st,
                                nullptr);
    if (rc != SQLITE_OK) return SqliteError(conn_->db, rc, "preparing: " + key);
    conn_->cache.emplace(std::move(key), st);
    return st;
  }

  StatusOr<int64_t> Exec(std::string_view sql, const Params& params) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Get(sql));
    RETURN_IF_ERROR(Bind(conn_->db, st, params));
    RETURN_IF_ERROR(StepAll(conn_->db, st, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(conn_->db));
  }

  Status Query(std::string_view sql, const Params& params, const RowFn& fn) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Get(sql));
    RETURN_IF_ERROR(Bind(conn_->db, st, params));
    return StepAll(conn_->db, st, &fn);
  }

  StatusOr<std::unique_ptr<Statement>> Prepare(std::string_view sql) override {
    ASSIGN_OR_RETURN(sqlite3_stmt * st, Get(sql));
    return std::unique_ptr<Statement>(new SqliteStatement(conn_->db, st));
  }

  StatusOr<int64_t> LastInsertId() override { return sqlite3_last_insert_rowid(conn_->db); }

  Status Commit() override {
    if (done_) return FailedPreconditionError("transaction already finished");
    char* err = nullptr;
    int rc = sqlite3_exec(conn_->db, "COMMIT", nullptr, nullptr, &err);
    if (err) sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(conn_->db, rc, "commit");
    done_ = true;
    return OkStatus();
  }

 private:
  SqliteStore* store_;
  std::unique_ptr<Connection> conn_;
  std::unique_lock<std::mutex> write_lock_;  // held by write transactions until they end
  bool done_ = false;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  StatusOr<std::unique_ptr<Connection>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    auto conn = std::make_unique<Connection>();
    int rc = sqlite3_open_v2(path_.c_str(), &conn->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(conn->db, rc, "opening database '" + path_ + "'");
    }
    sqlite3_busy_timeout(conn->db, 10000);
    const char* pragmas =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=10000;";
    char* err = nullptr;
    rc = sqlite3_exec(conn->db, pragmas, nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string m = err ? err : "";
      sqlite3_free(err);
      return SqliteError(conn->db, rc, "configuring database '" + path_ + "' (" + m + ")");
    }
    return conn;
  }

  void Release(std::unique_ptr<Connection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 8) idle_.push_back(std::move(c));
  }

  StatusOr<std::unique_ptr<Transaction>> Begin(TxnMode mode) override {
    // Writers of this process queue on a mutex instead of spinning on SQLITE_BUSY (whose retry
    // sleeps cost milliseconds); other processes still serialize on the database lock.
    std::unique_lock<std::mutex> write_lock;
    if (mode != TxnMode::kRead) write_lock = std::unique_lock<std::mutex>(write_mu_);
    ASSIGN_OR_RETURN(auto conn, Acquire());
    const char* sql = mode != TxnMode::kRead ? "BEGIN IMMEDIATE" : "BEGIN";
    char* err = nullptr;
    int rc = sqlite3_exec(conn->db, sql, nullptr, nullptr, &err);
    if (err) sqlite3_free(err);
    if (rc != SQLITE_OK) return SqliteError(conn->db, rc, sql);
    return std::unique_ptr<Transaction>(new SqliteTransaction(this, std::move(conn), std::move(write_lock)));
  }

  std::string backend() const override { return "sqlite"; }
  std::string description() const override { return "sqlite:" + path_; }

 private:
  std::string path_;
  std::mutex write_mu_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

SqliteTransaction::~SqliteTransaction() {
  if (!done_ && conn_) {
    sqlite3_exec(conn_->db, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  if (conn_) store_->Release(std::move(conn_));
}

}  // namespace

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = std::make_unique<SqliteStore>(path);
  // Open one connection now so a bad path fails here with a clear message.
  ASSIGN_OR_RETURN(auto conn, store->Acquire());
  store->Release(std::move(conn));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nbaprops::store::sqlite
