// Copies a whole nbaprops database from one store to another (SQLite -> PostgreSQL when a
// deployment outgrows one machine; either direction works). Both are migrated to the latest
// schema first; the target must hold no data. The copy is one write transaction on the target,
// so it lands whole or not at all, and it is checked table by table (row counts) before commit.
#ifndef NBAPROPS_STORE_COPY_H_
#define NBAPROPS_STORE_COPY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::store {

struct TableCopy {
  std::string table;
  int64_t rows = 0;
};

// on_table is called after each table is copied (progress).
StatusOr<std::vector<TableCopy>> CopyDatabase(Store& from, Store& to,
                                              const std::function<void(const TableCopy&)>& on_table = nullptr);

// The schema's tables, parents before the tables whose foreign keys point at them.
StatusOr<std::vector<std::string>> ListTables(Store& store);

}  // namespace nbaprops::store

#endif  // NBAPROPS_STORE_COPY_H_
