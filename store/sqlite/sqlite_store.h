// SQLite backend: one file, WAL journal, one connection per transaction-owning thread.
// Writers serialize on BEGIN IMMEDIATE; a busy database is retried for up to busy_timeout.
#ifndef NBAPROPS_STORE_SQLITE_SQLITE_STORE_H_
#define NBAPROPS_STORE_SQLITE_SQLITE_STORE_H_

#include <memory>
#include <string>

#include "store/store.h"

namespace nbaprops::store::sqlite {

StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path);

}  // namespace nbaprops::store::sqlite

#endif  // NBAPROPS_STORE_SQLITE_SQLITE_STORE_H_
