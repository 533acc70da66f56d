// Running the nbaprops binary from end-to-end tests (crash_test, pg_workers_test): in the
// foreground through the shell, or in the background to be killed.
#ifndef NBAPROPS_TESTS_PROCESS_UTIL_H_
#define NBAPROPS_TESTS_PROCESS_UTIL_H_

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace nbaprops::testing {

inline std::string Bin() { return NBAPROPS_BINARY; }

inline int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

// Starts `nbaprops ARGS` in the background with extra environment (`env`: "K=V K2=V2"), output to
// `log`; returns its pid. The command runs inside single quotes: quote arguments with double ones.
inline pid_t Spawn(const std::string& env, const std::string& args, const std::string& log) {
  std::string cmd = "sh -c '" + env + " exec " + Bin() + " " + args + " > " + log + " 2>&1 & echo $!'";
  FILE* p = ::popen(cmd.c_str(), "r");
  long pid = 0;
  if (std::fscanf(p, "%ld", &pid) != 1) pid = 0;
  ::pclose(p);
  return static_cast<pid_t>(pid);
}

inline bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

}  // namespace nbaprops::testing

#endif  // NBAPROPS_TESTS_PROCESS_UTIL_H_
