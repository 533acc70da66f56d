// `nbaprops migrate --from URL --to URL`: copies a whole database between backends (usually a
// SQLite file into PostgreSQL when workers move to several machines).
#include <cstdio>
#include <filesystem>

#include "base/strings.h"
#include "cli/commands.h"
#include "store/copy.h"
#include "store/store.h"

namespace nbaprops::cli {

int CmdMigrate(const GlobalOptions& g, const std::string& from_url, const std::string& to_url) {
  const std::string from_path = StartsWith(from_url, "sqlite:") ? from_url.substr(7) : from_url;
  std::error_code ec;
  if (!store::IsPostgresUrl(from_url) && !std::filesystem::exists(from_path, ec)) {
    return Fail(kExitUsage, "--from: database '" + from_path + "' does not exist");
  }
  if (store::PrintableDatabaseUrl(from_url) == store::PrintableDatabaseUrl(to_url)) {
    return Fail(kExitUsage, "--from and --to name the same database");
  }
  auto from = store::OpenStore(from_url);
  if (!from.ok()) return Fail(kExitStore, "--from: " + from.status().message());
  auto to = store::OpenStore(to_url);
  if (!to.ok()) return Fail(kExitStore, "--to: " + to.status().message());
  if (!g.quiet) std::printf("copying %s -> %s\n", (*from)->description().c_str(), (*to)->description().c_str());
  int64_t total = 0;
  auto copied = store::CopyDatabase(**from, **to, [&](const store::TableCopy& t) {
    total += t.rows;
    if (!g.quiet && t.rows > 0) std::printf("  %-45s %10lld rows\n", t.table.c_str(), static_cast<long long>(t.rows));
    std::fflush(stdout);
  });
  if (!copied.ok()) return Fail(kExitFailed, "copy failed, nothing was committed: " + copied.status().message());
  std::printf("copied %zu tables, %lld rows; every table's row count checked\n", copied->size(),
              static_cast<long long>(total));
  return kExitOk;
}

}  // namespace nbaprops::cli
