#include "store/copy.h"

#include <algorithm>
#include <map>
#include <set>

#include "store/migrations.h"

namespace nbaprops::store {
namespace {

constexpr const char* kSqliteTables =
    "SELECT m.name, f.\"table\" FROM sqlite_master m LEFT JOIN pragma_foreign_key_list(m.name) f "
    "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name";
constexpr const char* kPostgresTables =
    "SELECT t.table_name, ccu.table_name FROM information_schema.tables t "
    "LEFT JOIN information_schema.table_constraints tc ON tc.table_schema = t.table_schema AND "
    "tc.table_name = t.table_name AND tc.constraint_type = 'FOREIGN KEY' "
    "LEFT JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_schema = tc.constraint_schema AND "
    "ccu.constraint_name = tc.constraint_name "
    "WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY t.table_name";

// PostgreSQL identity columns keep their own counter: after rows arrive with their keys, the
// counter must move past the largest key or the next insert collides.
Status ResyncIdentities(Transaction& t) {
  std::vector<std::pair<std::string, std::string>> cols;
  RETURN_IF_ERROR(t.Query("SELECT table_name, column_name FROM information_schema.columns WHERE "
                          "table_schema = current_schema() AND is_identity = 'YES'",
                          {}, [&](const Row& r) {
                            cols.emplace_back(r.Text(0), r.Text(1));
                            return OkStatus();
                          }));
  for (const auto& [table, col] : cols) {
    RETURN_IF_ERROR(t.Query("SELECT setval(pg_get_serial_sequence('" + table + "', '" + col + "'), COALESCE(MAX(" +
                                col + "), 0) + 1, false) FROM " + table,
                            {}, [](const Row&) { return OkStatus(); }));
  }
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<std::string>> ListTables(Store& store) {
  std::map<std::string, std::set<std::string>> parents;
  RETURN_IF_ERROR(store.WithRead([&](Transaction& t) {
    return t.Query(store.backend() == "postgresql" ? kPostgresTables : kSqliteTables, {}, [&](const Row& r) {
      auto& p = parents[r.Text(0)];
      if (!r.IsNull(1) && r.Text(1) != r.Text(0)) p.insert(r.Text(1));
      return OkStatus();
    });
  }));
  std::vector<std::string> out;
  std::set<std::string> placed;
  while (placed.size() < parents.size()) {  // a topological order, alphabetical among equals
    size_t before = placed.size();
    for (const auto& [table, ps] : parents) {
      if (placed.count(table)) continue;
      if (std::all_of(ps.begin(), ps.end(), [&](const std::string& p) { return placed.count(p) || !parents.count(p); })) {
        out.push_back(table);
        placed.insert(table);
      }
    }
    if (placed.size() == before) return InternalError("foreign keys form a cycle; cannot order the tables");
  }
  return out;
}

StatusOr<std::vector<TableCopy>> CopyDatabase(Store& from, Store& to,
                                              const std::function<void(const TableCopy&)>& on_table) {
  RETURN_IF_ERROR(Migrate(from).status().WithContext("migrating the source " + from.description()));
  RETURN_IF_ERROR(Migrate(to).status().WithContext("migrating the target " + to.description()));
  ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables(from));
  ASSIGN_OR_RETURN(std::vector<std::string> target_tables, ListTables(to));
  const std::set<std::string> in_target(target_tables.begin(), target_tables.end());
  std::vector<TableCopy> report;
  ASSIGN_OR_RETURN(auto source, from.Begin(TxnMode::kRead));  // one snapshot of the source
  ASSIGN_OR_RETURN(auto target, to.Begin(TxnMode::kWrite));
  for (const std::string& table : tables) {
    if (table == "schema_migrations") continue;  // both sides were just migrated to the same version
    if (!in_target.count(table)) {
      return FailedPreconditionError("table " + table + " of " + from.description() + " is not in the schema of " +
                                     to.description() + "; is one of them from a newer nbaprops?");
    }
    ASSIGN_OR_RETURN(auto existing, target->QueryInt("SELECT COUNT(*) FROM " + table));
    if (existing.value_or(0) > 0) {
      return FailedPreconditionError(to.description() + " already has " + std::to_string(*existing) + " rows in " +
                                     table + "; copy into an empty database");
    }
    TableCopy copy{table, 0};
    std::unique_ptr<Statement> insert;
    std::vector<std::string> text;
    Params params;
    RETURN_IF_ERROR(source->Query("SELECT * FROM " + table, {}, [&](const Row& r) -> Status {
      const int n = r.size();
      if (!insert) {
        std::string cols, marks;
        for (int c = 0; c < n; ++c) {
          cols += (c ? ", " : "") + r.ColumnName(c);
          marks += c ? ", ?" : "?";
        }
        ASSIGN_OR_RETURN(insert, target->Prepare("INSERT INTO " + table + " (" + cols + ") VALUES (" + marks + ")"));
      }
      text.assign(n, "");
      params.assign(n, Param());
      for (int c = 0; c < n; ++c) {
        switch (r.TypeOf(c)) {
          case Param::Type::kNull: break;
          case Param::Type::kInt: params[c] = r.Int(c); break;
          case Param::Type::kDouble: params[c] = r.Double(c); break;
          case Param::Type::kText:
            text[c] = r.Text(c);
            params[c] = text[c];
            break;
        }
      }
      RETURN_IF_ERROR(insert->Exec(params).status().WithContext("copying a row of " + table));
      ++copy.rows;
      return OkStatus();
    }));
    ASSIGN_OR_RETURN(auto copied, target->QueryInt("SELECT COUNT(*) FROM " + table));
    if (copied.value_or(0) != copy.rows) {
      return DataLossError("table " + table + ": read " + std::to_string(copy.rows) + " rows but the target holds " +
                           std::to_string(copied.value_or(0)) + "; nothing was committed");
    }
    if (on_table) on_table(copy);
    report.push_back(copy);
  }
  if (to.backend() == "postgresql") RETURN_IF_ERROR(ResyncIdentities(*target));
  RETURN_IF_ERROR(target->Commit());
  RETURN_IF_ERROR(source->Commit());
  return report;
}

}  // namespace nbaprops::store
