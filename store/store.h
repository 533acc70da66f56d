// Store: the only door to the database. Layers above speak portable, parameterized SQL through
// Transaction and never see sqlite3 or libpq.
//
// Portable SQL means: `?` placeholders, INSERT ... ON CONFLICT ... DO UPDATE, no backend-only
// functions. Timestamps are stored as Unix seconds (INTEGER), dates as 'YYYY-MM-DD' TEXT.
//
// Thread-safety: a Store may be shared by threads; each Transaction belongs to one thread.
// A Transaction that is destroyed without Commit() rolls back, so an early return on error never
// leaves half a partition behind.
#ifndef NBAPROPS_STORE_STORE_H_
#define NBAPROPS_STORE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace nbaprops::store {

// A bound parameter. Non-owning for text: the caller keeps the string alive for the call.
class Param {
 public:
  enum class Type { kNull, kInt, kDouble, kText };
  Param() = default;
  Param(std::nullptr_t) {}                                           // NOLINT
  Param(int v) : type_(Type::kInt), i_(v) {}                         // NOLINT
  Param(int64_t v) : type_(Type::kInt), i_(v) {}                     // NOLINT
  Param(bool v) : type_(Type::kInt), i_(v ? 1 : 0) {}                // NOLINT
  Param(double v) : type_(Type::kDouble), d_(v) {}                   // NOLINT
  Param(std::string_view v) : type_(Type::kText), s_(v) {}           // NOLINT
  Param(const std::string& v) : type_(Type::kText), s_(v) {}         // NOLINT
  Param(const char* v) : type_(Type::kText), s_(v) {}                // NOLINT
  template <typename T>
  Param(const std::optional<T>& v) {                                 // NOLINT
    if (v) *this = Param(*v);
  }

  Type type() const { return type_; }
  int64_t int_value() const { return i_; }
  double double_value() const { return d_; }
  std::string_view text_value() const { return s_; }

 private:
  Type type_ = Type::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string_view s_;
};

using Params = std::vector<Param>;

// One result row; valid only inside the Query callback.
class Row {
 public:
  virtual ~Row() = default;
  virtual int size() const = 0;
  virtual bool IsNull(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual std::string ColumnName(int col) const = 0;
  // The value's type as stored (kNull for NULL; a BLOB reads as kText): for copying rows between
  // backends without losing a double's precision to text.
  virtual Param::Type TypeOf(int col) const = 0;
  std::optional<int64_t> OptInt(int col) const { return IsNull(col) ? std::nullopt : std::optional(Int(col)); }
  std::optional<double> OptDouble(int col) const {
    return IsNull(col) ? std::nullopt : std::optional(Double(col));
  }
  std::optional<std::string> OptText(int col) const {
    return IsNull(col) ? std::nullopt : std::optional(Text(col));
  }
};

using RowFn = std::function<Status(const Row&)>;

// A statement prepared once and executed many times (bulk inserts).
class Statement {
 public:
  virtual ~Statement() = default;
  virtual StatusOr<int64_t> Exec(const Params& params) = 0;  // rows changed
  // As Transaction::ExecLater: for bulk writes whose counts are not needed (PostgreSQL sends
  // them in pipelines instead of one round trip a row).
  virtual Status ExecLater(const Params& params) { return Exec(params).status(); }
};

class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual StatusOr<int64_t> Exec(std::string_view sql, const Params& params = {}) = 0;
  // A write whose changed-row count the caller does not need. The store may send it with the
  // next statement or with the commit, in the same order, to save a round trip (PostgreSQL); its
  // error, if any, is then returned by that call. SQLite runs it at once.
  virtual Status ExecLater(std::string_view sql, const Params& params = {}) { return Exec(sql, params).status(); }
  virtual Status Query(std::string_view sql, const Params& params, const RowFn& fn) = 0;
  virtual StatusOr<std::unique_ptr<Statement>> Prepare(std::string_view sql) = 0;
  virtual StatusOr<int64_t> LastInsertId() = 0;
  virtual Status Commit() = 0;
  // Waits for, then holds until the end of the transaction, an exclusive lock on `key` among
  // kRunCommit transactions, for the few things several run commits may race on (a partition's
  // downstream trigger). Nothing to do on SQLite, whose writers are serialized already.
  virtual Status LockKey(std::string_view /*key*/) { return OkStatus(); }

  // Helpers for the common single-value query.
  StatusOr<std::optional<int64_t>> QueryInt(std::string_view sql, const Params& params = {});
  StatusOr<std::optional<std::string>> QueryText(std::string_view sql, const Params& params = {});
};

enum class TxnMode {
  kRead,   // a consistent snapshot (PostgreSQL: REPEATABLE READ)
  // Writers are serialized, as on SQLite, so a read-then-write inside one transaction is never
  // raced: SQLite takes the write lock at BEGIN IMMEDIATE; PostgreSQL takes one transaction-scoped
  // advisory lock. Every write in the code base was written against this guarantee.
  kWrite,
  // For the queue's claims only: row locks instead of the writer lock, so claims on PostgreSQL do
  // not wait for each other or for other writers. The statements must be safe under READ
  // COMMITTED on their own: select with claim_lock_clause(), then a conditional UPDATE. On SQLite
  // this is kWrite.
  kClaim,
  // For a run's output commit when its processor writes only its own partition's rows
  // (Processor::partition_local_commits): on PostgreSQL the writer lock is taken shared, so such
  // commits proceed side by side while every kWrite transaction still excludes them all (the
  // reaper, heartbeats and every other writer). Only the committing run's own ledger row is
  // updated, conditionally; LockKey serializes what two such commits may race on. On SQLite this
  // is kWrite.
  kRunCommit,
};

class Store {
 public:
  virtual ~Store() = default;
  virtual StatusOr<std::unique_ptr<Transaction>> Begin(TxnMode mode) = 0;
  virtual std::string backend() const = 0;     // "sqlite" | "postgresql"
  virtual std::string description() const = 0;  // path or redacted URL, safe to print
  // Appended to the SELECT of a kClaim transaction: " FOR UPDATE SKIP LOCKED" on PostgreSQL, so
  // concurrent claimers pass over each other's rows; "" on SQLite, whose writer lock suffices.
  virtual std::string_view claim_lock_clause() const { return ""; }

  // Runs fn in a transaction of `mode` and commits it; rolls back when fn fails.
  Status With(TxnMode mode, const std::function<Status(Transaction&)>& fn);
  // With(kWrite, fn) and With(kRead, fn).
  Status WithWrite(const std::function<Status(Transaction&)>& fn);
  Status WithRead(const std::function<Status(Transaction&)>& fn);
};

// Opens "sqlite:PATH", "sqlite::memory:" or a plain file path, creating the file if needed, or
// "postgresql://..." / "postgres://..." (a libpq connection URI). Does not run migrations (see
// migrations.h).
StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url);

bool IsPostgresUrl(std::string_view url);
// The URL or path as it may be printed: a PostgreSQL password is left out.
std::string PrintableDatabaseUrl(const std::string& url);

}  // namespace nbaprops::store

#endif  // NBAPROPS_STORE_STORE_H_
