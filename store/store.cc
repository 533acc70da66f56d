#include "store/store.h"

#include "base/strings.h"
#include "store/postgres/pg_store.h"
#include "store/sqlite/sqlite_store.h"

namespace nbaprops::store {

StatusOr<std::optional<int64_t>> Transaction::QueryInt(std::string_view sql, const Params& params) {
  std::optional<int64_t> out;
  RETURN_IF_ERROR(Query(sql, params, [&](const Row& r) {
    out = r.OptInt(0);
    return OkStatus();
  }));
  return out;
}

StatusOr<std::optional<std::string>> Transaction::QueryText(std::string_view sql, const Params& params) {
  std::optional<std::string> out;
  RETURN_IF_ERROR(Query(sql, params, [&](const Row& r) {
    if (!r.IsNull(0)) out = r.Text(0);
    return OkStatus();
  }));
  return out;
}

Status Store::With(TxnMode mode, const std::function<Status(Transaction&)>& fn) {
  ASSIGN_OR_RETURN(auto txn, Begin(mode));
  RETURN_IF_ERROR(fn(*txn));
  return txn->Commit();
}

Status Store::WithWrite(const std::function<Status(Transaction&)>& fn) { return With(TxnMode::kWrite, fn); }

Status Store::WithRead(const std::function<Status(Transaction&)>& fn) { return With(TxnMode::kRead, fn); }

bool IsPostgresUrl(std::string_view url) { return StartsWith(url, "postgresql://") || StartsWith(url, "postgres://"); }

std::string PrintableDatabaseUrl(const std::string& url) {
  return IsPostgresUrl(url) ? postgres::RedactPostgresUrl(url) : url;
}

StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  if (IsPostgresUrl(url)) {
    return postgres::OpenPostgresStore(url);
  }
  std::string path = StartsWith(url, "sqlite:") ? url.substr(7) : url;
  if (path.empty()) return InvalidArgumentError("empty database path; pass --db FILE");
  return sqlite::OpenSqliteStore(path);
}

}  // namespace nbaprops::store
