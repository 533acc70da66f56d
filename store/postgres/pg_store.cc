#include "store/postgres/pg_store.h"

#include <libpq-fe.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/postgres/pg_sql.h"

namespace nbaprops::store::postgres {
namespace {

constexpr Oid kByteaOid = 17;
// The one advisory lock that serializes kWrite transactions ("nbaprops" in ASCII, truncated),
// taken shared by kRunCommit ones.
constexpr const char* kWriterLockSql = "SELECT pg_advisory_xact_lock(7953066445824847219)";
constexpr const char* kSharedWriterLockSql = "SELECT pg_advisory_xact_lock_shared(7953066445824847219)";
// LockKey's locks: the two-key form, so they never collide with the writer lock.
constexpr const char* kKeyLockSql = "SELECT pg_advisory_xact_lock(1853189228, hashtext(?))";
constexpr size_t kMaxIdle = 16;

struct Prepared {
  std::string name;
  std::vector<Oid> types;
};

struct Connection {
  PGconn* conn = nullptr;
  std::unordered_map<std::string, Prepared> cache;
  bool broken = false;
  ~Connection() {
    if (conn) PQfinish(conn);
  }
};

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// SQLSTATE classes: 08 connection, 57P0x shutdown, 53 resources, 40 serialization/deadlock,
// 23 integrity.
Status PgError(Connection& c, const PGresult* res, std::string_view what) {
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string code = state ? state : "";
  std::string detail = res ? PQresultErrorMessage(res) : "";
  if (detail.empty()) detail = PQerrorMessage(c.conn);
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  std::string msg = std::string(what) + ": " + detail;
  if (PQstatus(c.conn) == CONNECTION_BAD || code.rfind("08", 0) == 0 || code.rfind("57P", 0) == 0) {
    c.broken = true;
    return UnavailableError(msg + " (lost the connection to PostgreSQL; retry)");
  }
  if (code.rfind("53", 0) == 0 || code.rfind("40", 0) == 0) return UnavailableError(msg + " (retry)");
  if (code.rfind("23", 0) == 0) return AlreadyExistsError(msg);
  return InternalError(msg);
}

bool Ok(const PGresult* res) {
  ExecStatusType st = PQresultStatus(res);
  return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

std::string DoubleText(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

class PgRow final : public Row {
 public:
  PgRow(const PGresult* res, int row) : res_(res), row_(row) {}
  int size() const override { return PQnfields(res_); }
  bool IsNull(int c) const override { return PQgetisnull(res_, row_, c); }
  // Values arrive as text. Booleans ('t'/'f') read as 1/0, and a fractional value (AVG, numeric)
  // is truncated as SQLite's column_int64 does.
  int64_t Int(int c) const override {
    const char* v = PQgetvalue(res_, row_, c);
    if (v[0] == 't' && v[1] == '\0') return 1;
    if (v[0] == 'f' && v[1] == '\0') return 0;
    char* end = nullptr;
    long long x = std::strtoll(v, &end, 10);
    if (*end == '\0') return x;
    return static_cast<int64_t>(std::strtod(v, nullptr));
  }
  double Double(int c) const override {
    const char* v = PQgetvalue(res_, row_, c);
    if (v[0] == 't' && v[1] == '\0') return 1;
    if (v[0] == 'f' && v[1] == '\0') return 0;
    return std::strtod(v, nullptr);
  }
  std::string Text(int c) const override {
    const char* v = PQgetvalue(res_, row_, c);
    if (PQftype(res_, c) != kByteaOid) return std::string(v, static_cast<size_t>(PQgetlength(res_, row_, c)));
    size_t n = 0;
    unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &n);
    std::string out(reinterpret_cast<const char*>(bytes), n);
    PQfreemem(bytes);
    return out;
  }
  std::string ColumnName(int c) const override { return PQfname(res_, c); }
  Param::Type TypeOf(int c) const override {
    if (IsNull(c)) return Param::Type::kNull;
    switch (PQftype(res_, c)) {
      case 16: case 20: case 21: case 23: return Param::Type::kInt;        // bool, int8, int2, int4
      case 700: case 701: case 1700: return Param::Type::kDouble;          // float4, float8, numeric
      default: return Param::Type::kText;
    }
  }

 private:
  const PGresult* res_;
  int row_;
};

class PgStore;

// What opens a transaction of each mode: BEGIN, then the writer lock when the mode takes it.
struct BeginSql {
  const char* begin;
  const char* lock;  // null: none
};
BeginSql BeginFor(TxnMode mode) {
  switch (mode) {
    case TxnMode::kRead: return {"BEGIN ISOLATION LEVEL REPEATABLE READ", nullptr};
    case TxnMode::kWrite: return {"BEGIN", kWriterLockSql};
    case TxnMode::kRunCommit: return {"BEGIN", kSharedWriterLockSql};
    case TxnMode::kClaim: return {"BEGIN", nullptr};
  }
  return {"BEGIN", kWriterLockSql};
}

// A transaction opens lazily: BEGIN (and the lock) travel with its first statement, and the
// statements passed to ExecLater with the next statement or the COMMIT, in one round trip
// (libpq pipeline mode). A transaction that runs nothing costs nothing.
class PgTransaction final : public Transaction {
 public:
  PgTransaction(PgStore* store, std::unique_ptr<Connection> conn, BeginSql begin)
      : store_(store), conn_(std::move(conn)), begin_(begin) {}
  ~PgTransaction() override;

  // Runs one statement (after any pending ones); rows go to fn when given. When it is the
  // first and the pooled connection turns out to be dead (a server restart), the connection is
  // replaced and the statement retried, since nothing has happened in the transaction yet.
  StatusOr<int64_t> Run(std::string_view sql, const Params& params, const RowFn* fn) {
    if (done_) return FailedPreconditionError("transaction already finished");
    const Statement st(std::string(sql), params, {});  // views suffice: sent now
    ASSIGN_OR_RETURN(Result res, SendOpening(&st, false));
    if (fn) {
      const int rows = PQntuples(res.get());
      for (int r = 0; r < rows; ++r) RETURN_IF_ERROR((*fn)(PgRow(res.get(), r)));
    }
    const char* changed = PQcmdTuples(res.get());
    return changed[0] ? std::strtoll(changed, nullptr, 10) : 0;
  }

  StatusOr<const Prepared*> Get(std::string_view sql) {
    std::string key(sql);
    auto it = conn_->cache.find(key);
    if (it != conn_->cache.end()) return &it->second;
    TranslatedSql t = TranslateSql(sql);
    Prepared p{"s" + std::to_string(conn_->cache.size()), {}};
    Result prep(PQprepare(conn_->conn, p.name.c_str(), t.sql.c_str(), 0, nullptr), &PQclear);
    if (!Ok(prep.get())) return PgError(*conn_, prep.get(), "preparing " + key);
    Result desc(PQdescribePrepared(conn_->conn, p.name.c_str()), &PQclear);
    if (!Ok(desc.get())) return PgError(*conn_, desc.get(), "describing " + key);
    for (int i = 0; i < PQnparams(desc.get()); ++i) p.types.push_back(PQparamtype(desc.get(), i));
    return &conn_->cache.emplace(std::move(key), std::move(p)).first->second;
  }

  StatusOr<int64_t> Exec(std::string_view sql, const Params& params) override { return Run(sql, params, nullptr); }

  Status ExecLater(std::string_view sql, const Params& params) override {
    if (done_) return FailedPreconditionError("transaction already finished");
    later_.push_back(Statement::Owning(sql, params));
    // Bounded, so the server's answers to one pipeline never fill the socket while we send.
    if (later_.size() >= kMaxPending) return SendOpening(nullptr, false).status();
    return OkStatus();
  }

  Status Query(std::string_view sql, const Params& params, const RowFn& fn) override {
    return Run(sql, params, &fn).status();
  }

  StatusOr<std::unique_ptr<store::Statement>> Prepare(std::string_view sql) override;

  Status LockKey(std::string_view key) override { return Run(kKeyLockSql, {std::string(key)}, nullptr).status(); }

  StatusOr<int64_t> LastInsertId() override {
    ASSIGN_OR_RETURN(auto id, QueryInt("SELECT lastval()"));
    return id.value_or(0);
  }

  Status Commit() override {
    if (done_) return FailedPreconditionError("transaction already finished");
    if (!begun_ && later_.empty()) {  // nothing was run: nothing to commit
      done_ = true;
      return OkStatus();
    }
    auto res = SendOpening(nullptr, true);
    done_ = true;
    if (!res.ok()) {
      // A pending statement failed, so COMMIT never ran: the transaction is still open (and
      // aborted) on the server. End it before the connection goes back to the pool.
      if (!conn_->broken) {
        Result rollback(PQexec(conn_->conn, "ROLLBACK"), &PQclear);
        if (!Ok(rollback.get())) conn_->broken = true;
      }
      return res.status();
    }
    // After an error PostgreSQL answers COMMIT by rolling back.
    if (std::strcmp(PQcmdStatus(res->get()), "COMMIT") != 0) {
      return AbortedError("commit: PostgreSQL rolled the transaction back after an earlier error");
    }
    return OkStatus();
  }

 private:
  struct Statement {
    std::string sql;
    Params params;
    std::vector<std::string> texts;  // what params' text views point at, for an owning copy

    // A copy that keeps its text values itself (a Param's text is only a view): for statements
    // sent after the call that passed them returns. Moving keeps the views valid (the strings
    // stay where they are); copying would not.
    static Statement Owning(std::string_view sql, const Params& params) {
      Statement st{std::string(sql), params, {}};
      st.texts.reserve(params.size());
      for (Param& p : st.params) {
        if (p.type() != Param::Type::kText) continue;
        st.texts.emplace_back(p.text_value());
        p = Param(std::string_view(st.texts.back()));
      }
      return st;
    }
    Statement(std::string s, Params p, std::vector<std::string> t)
        : sql(std::move(s)), params(std::move(p)), texts(std::move(t)) {}
    Statement(Statement&&) = default;
    Statement& operator=(Statement&&) = default;
    Statement(const Statement&) = delete;
  };
  // One query of a pipeline, its parameters in libpq's text (or, for BYTEA, binary) form.
  struct Bound {
    std::string what;      // for messages
    const char* prepared;  // statement name, or null for `text`
    const char* text;
    std::vector<std::string> storage;
    std::vector<const char*> values;
    std::vector<int> lengths, formats;
  };

  StatusOr<Bound> Bind(const Statement& st) {
    ASSIGN_OR_RETURN(const Prepared* p, Get(st.sql));
    if (p->types.size() != st.params.size()) {
      return InternalError("statement expects " + std::to_string(p->types.size()) + " parameters, got " +
                           std::to_string(st.params.size()) + ": " + st.sql);
    }
    const size_t n = st.params.size();
    Bound b{"executing " + st.sql, p->name.c_str(), nullptr, std::vector<std::string>(n),
            std::vector<const char*>(n, nullptr), std::vector<int>(n, 0), std::vector<int>(n, 0)};
    for (size_t i = 0; i < n; ++i) {
      const Param& v = st.params[i];
      switch (v.type()) {
        case Param::Type::kNull: continue;
        case Param::Type::kInt: b.storage[i] = std::to_string(v.int_value()); break;
        case Param::Type::kDouble: b.storage[i] = DoubleText(v.double_value()); break;
        case Param::Type::kText:
          b.storage[i] = std::string(v.text_value());
          if (p->types[i] == kByteaOid) b.formats[i] = 1;  // raw bytes, no escaping
          break;
      }
      b.values[i] = b.storage[i].c_str();
      b.lengths[i] = static_cast<int>(b.storage[i].size());
    }
    return b;
  }

  // Send, retried on a fresh connection when the pooled one turns out to be dead (a server
  // restart) before the transaction was open: nothing has happened in it yet.
  StatusOr<Result> SendOpening(const Statement* last, bool commit) {
    for (int attempt = 0;; ++attempt) {
      const bool opening = !begun_;
      auto res = Send(last, commit);
      if (res.ok() || !opening || !conn_->broken || attempt == 2) return res;
      RETURN_IF_ERROR(Reconnect());
    }
  }

  // Sends what is due, then `last`, or COMMIT, or nothing more: BEGIN and the lock when the
  // transaction is not open yet, and the pending ExecLater statements. Returns the result of the
  // last query, or the first error (of BEGIN, the lock, a pending statement or the last query).
  StatusOr<Result> Send(const Statement* last, bool commit) {
    std::vector<Bound> queries;
    if (!begun_) {
      queries.push_back({begin_.begin, nullptr, begin_.begin, {}, {}, {}, {}});
      if (begin_.lock) queries.push_back({begin_.begin, nullptr, begin_.lock, {}, {}, {}, {}});
    }
    for (const Statement& st : later_) {
      ASSIGN_OR_RETURN(Bound b, Bind(st));
      queries.push_back(std::move(b));
    }
    if (last) {
      ASSIGN_OR_RETURN(Bound b, Bind(*last));
      queries.push_back(std::move(b));
    } else if (commit) {
      queries.push_back({"commit", nullptr, "COMMIT", {}, {}, {}, {}});
    }
    if (queries.empty()) return Result(nullptr, &PQclear);
    PGconn* c = conn_->conn;
    const Bound& q0 = queries.front();
    if (queries.size() == 1) {  // the common case: one statement in an open transaction
      Result res(q0.prepared ? PQexecPrepared(c, q0.prepared, static_cast<int>(q0.values.size()), q0.values.data(),
                                              q0.lengths.data(), q0.formats.data(), 0)
                             : PQexec(c, q0.text),
                 &PQclear);
      if (!Ok(res.get())) return PgError(*conn_, res.get(), q0.what);
      return res;
    }
    auto broken = [&](const std::string& what) {
      // Leave pipeline mode whatever state the connection is in; a dead one is replaced later.
      while (PQpipelineStatus(c) != PQ_PIPELINE_OFF && PQexitPipelineMode(c) == 0) {
        PGresult* r = PQgetResult(c);
        if (r == nullptr && PQstatus(c) == CONNECTION_BAD) break;
        PQclear(r);
      }
      return PgError(*conn_, nullptr, what);
    };
    if (PQenterPipelineMode(c) == 0) return broken("entering pipeline mode");
    for (const Bound& q : queries) {
      const int n = static_cast<int>(q.values.size());
      const int ok = q.prepared ? PQsendQueryPrepared(c, q.prepared, n, q.values.data(), q.lengths.data(),
                                                      q.formats.data(), 0)
                                : PQsendQueryParams(c, q.text, 0, nullptr, nullptr, nullptr, nullptr, 0);
      if (ok != 1) return broken(q.what);
    }
    if (PQpipelineSync(c) != 1) return broken(q0.what);
    // One result per query (each followed by a null), then the sync point.
    Status first_error;
    Result out(nullptr, &PQclear);
    for (const Bound& q : queries) {
      Result r(PQgetResult(c), &PQclear);
      if (r == nullptr) return broken(q.what);
      while (PGresult* extra = PQgetResult(c)) PQclear(extra);
      if (first_error.ok() && !Ok(r.get())) first_error = PgError(*conn_, r.get(), q.what);
      out = std::move(r);
    }
    Result sync(PQgetResult(c), &PQclear);
    if (sync == nullptr || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(c) == 0) {
      return broken(q0.what);
    }
    // BEGIN reached the server (its failure would have been a broken connection, retried by
    // Run): from here the transaction is open and the pending statements are spent.
    begun_ = true;
    later_.clear();
    RETURN_IF_ERROR(first_error);
    return out;
  }

  Status Reconnect();

  PgStore* store_;
  std::unique_ptr<Connection> conn_;
  BeginSql begin_;
  static constexpr size_t kMaxPending = 256;
  std::vector<Statement> later_;  // ExecLater statements not sent yet
  bool begun_ = false;            // BEGIN has been sent
  bool done_ = false;
};

class PgStatement final : public store::Statement {
 public:
  PgStatement(PgTransaction* t, std::string sql) : t_(t), sql_(std::move(sql)) {}
  StatusOr<int64_t> Exec(const Params& params) override { return t_->Run(sql_, params, nullptr); }
  Status ExecLater(const Params& params) override { return t_->ExecLater(sql_, params); }

 private:
  PgTransaction* t_;
  std::string sql_;
};

StatusOr<std::unique_ptr<store::Statement>> PgTransaction::Prepare(std::string_view sql) {
  RETURN_IF_ERROR(Get(sql).status());
  return std::unique_ptr<store::Statement>(new PgStatement(this, std::string(sql)));
}

class PgStore final : public Store {
 public:
  explicit PgStore(std::string url) : url_(std::move(url)), description_(RedactPostgresUrl(url_)) {}

  // A new connection, retried with backoff while the server is unreachable (restarting).
  StatusOr<std::unique_ptr<Connection>> Connect() {
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* vals[] = {url_.c_str(), "5", "nbaprops", nullptr};
    std::string last;
    int delay_ms = 50;
    for (int attempt = 0; attempt < 8; ++attempt) {
      if (attempt > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        delay_ms *= 2;
      }
      auto c = std::make_unique<Connection>();
      c->conn = PQconnectdbParams(keys, vals, 1);
      if (c->conn && PQstatus(c->conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(c->conn, [](void*, const char*) {}, nullptr);  // "already exists, skipping"
        return c;
      }
      last = c->conn ? PQerrorMessage(c->conn) : "out of memory";
      while (!last.empty() && (last.back() == '\n' || last.back() == ' ')) last.pop_back();
      // A bad password or database name will not fix itself.
      if (last.find("authentication") != std::string::npos || last.find("does not exist") != std::string::npos) break;
    }
    return UnavailableError("cannot connect to PostgreSQL at " + description_ + ": " + last);
  }

  StatusOr<std::unique_ptr<Connection>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
    }
    return Connect();
  }

  void Release(std::unique_ptr<Connection> c) {
    if (c->broken || PQstatus(c->conn) != CONNECTION_OK) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(c));
  }

  void DropIdle() {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.clear();
  }

  StatusOr<std::unique_ptr<Transaction>> Begin(TxnMode mode) override {
    ASSIGN_OR_RETURN(auto c, Acquire());
    return std::unique_ptr<Transaction>(new PgTransaction(this, std::move(c), BeginFor(mode)));
  }

  std::string backend() const override { return "postgresql"; }
  std::string description() const override { return description_; }
  std::string_view claim_lock_clause() const override { return " FOR UPDATE SKIP LOCKED"; }

 private:
  std::string url_;
  std::string description_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// A pooled connection may have died with a server restart; that shows only when it is used.
Status PgTransaction::Reconnect() {
  store_->DropIdle();  // the others most likely died with it
  ASSIGN_OR_RETURN(conn_, store_->Connect());
  return OkStatus();
}

PgTransaction::~PgTransaction() {
  if (!done_ && begun_ && conn_ && !conn_->broken) {
    Result res(PQexec(conn_->conn, "ROLLBACK"), &PQclear);
    if (!Ok(res.get())) conn_->broken = true;
  }
  if (conn_) store_->Release(std::move(conn_));
}

}  // namespace

std::string RedactPostgresUrl(const std::string& url) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (!opts) {
    if (err) PQfreemem(err);
    return "postgresql://(unparsable URL)";
  }
  std::string user, host, port, db;
  for (PQconninfoOption* o = opts; o->keyword; ++o) {
    if (!o->val) continue;
    std::string k = o->keyword;
    if (k == "user") user = o->val;
    if (k == "host") host = o->val;
    if (k == "port") port = o->val;
    if (k == "dbname") db = o->val;
  }
  PQconninfoFree(opts);
  std::string out = "postgresql://" + (user.empty() ? "" : user + "@");
  if (!host.empty() && host[0] == '/') {
    out += (port.empty() ? "" : ":" + port) + "/" + db + "?host=" + host;
  } else {
    out += host + (port.empty() ? "" : ":" + port) + "/" + db;
  }
  return out;
}

StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url) {
  auto store = std::make_unique<PgStore>(url);
  // Connect once now so a wrong URL fails here with a clear message.
  ASSIGN_OR_RETURN(auto conn, store->Acquire());
  store->Release(std::move(conn));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nbaprops::store::postgres
