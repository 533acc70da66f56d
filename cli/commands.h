// Subcommand implementations of `nbaprops`. Each returns the process exit code:
//   0 success; 1 some work failed (runs failed, records rejected wholesale); 2 bad usage, config
//   or input path; 3 the database is unavailable or not initialized.
#ifndef NBAPROPS_CLI_COMMANDS_H_
#define NBAPROPS_CLI_COMMANDS_H_

#include <string>
#include <vector>

namespace nbaprops::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitStore = 3;

struct GlobalOptions {
  std::string db;      // empty: from config
  std::string config;  // empty: defaults + env
  bool json = false;
  bool quiet = false;
};

int CmdInit(const GlobalOptions& g);
int CmdImport(const GlobalOptions& g, const std::vector<std::string>& paths, const std::string& kind);
int CmdRun(const GlobalOptions& g, const std::string& date, int phase, bool queued);
int CmdBackfill(const GlobalOptions& g, const std::string& from, const std::string& to, int phase);
int CmdStatus(const GlobalOptions& g, const std::string& date);
int CmdRuns(const GlobalOptions& g, const std::string& status, const std::string& processor, int limit);
int CmdRegistryUnresolved(const GlobalOptions& g, const std::string& status);
int CmdRegistryAlias(const GlobalOptions& g, const std::string& name, const std::string& player_id);
int CmdRegistryPlayers(const GlobalOptions& g, const std::string& query);
int CmdDemo(const GlobalOptions& g, const std::string& data_dir);
int CmdVersion(const GlobalOptions& g);

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_COMMANDS_H_
