// PostgreSQL backend (libpq): one server shared by workers on several machines; it is both the
// data store and the work queue, so a data write and the trigger it causes commit together.
//
// - Connections are pooled per Store (each Transaction holds one). A connection found broken is
//   dropped and a new one made, with backoff (about 6 s in all) before Begin reports Unavailable;
//   a transaction that loses its connection fails, and the engine's lease takes care of its run.
// - Statements are prepared once per connection; parameter types are inferred by the server and
//   values are sent as text, except BYTEA, which is sent and read as bytes.
// - TxnMode semantics are in store.h: kWrite serializes writers on one advisory lock, kClaim
//   relies on row locks (FOR UPDATE SKIP LOCKED), kRead is REPEATABLE READ.
#ifndef NBAPROPS_STORE_POSTGRES_PG_STORE_H_
#define NBAPROPS_STORE_POSTGRES_PG_STORE_H_

#include <memory>
#include <string>

#include "store/store.h"

namespace nbaprops::store::postgres {

// `url` is a libpq URI ("postgresql://user:pass@host:port/db?host=/tmp"). The password, if any,
// never appears in errors or in description().
StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url);

// "postgresql://user@host:port/db" without the password (for messages).
std::string RedactPostgresUrl(const std::string& url);

}  // namespace nbaprops::store::postgres

#endif  // NBAPROPS_STORE_POSTGRES_PG_STORE_H_
