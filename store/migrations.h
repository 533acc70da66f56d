// Versioned schema migrations, applied in order on start. A migration runs in one write
// transaction together with its schema_migrations row, so a crash never leaves it half done.
// Never edit a migration that has shipped; add a new one.
#ifndef NBAPROPS_STORE_MIGRATIONS_H_
#define NBAPROPS_STORE_MIGRATIONS_H_

#include "base/status.h"
#include "store/store.h"

namespace nbaprops::store {

// Applies pending migrations; returns how many were applied.
StatusOr<int> Migrate(Store& store);
int LatestSchemaVersion();
// Current version of an opened database (0 when empty).
StatusOr<int> SchemaVersion(Store& store);

}  // namespace nbaprops::store

#endif  // NBAPROPS_STORE_MIGRATIONS_H_
