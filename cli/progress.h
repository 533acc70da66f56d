// A one-line progress bar on stderr for long commands (backfill, demo, evaluate).
#ifndef NBAPROPS_CLI_PROGRESS_H_
#define NBAPROPS_CLI_PROGRESS_H_

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace nbaprops::cli {

inline bool Interactive() { return ::isatty(STDERR_FILENO) == 1; }

// A one-line progress bar on a terminal; a line every 10% otherwise.
class Progress {
 public:
  Progress(std::string label, bool quiet) : label_(std::move(label)), quiet_(quiet), start_(Now()) {}
  void Update(int done, int total, const std::string& what) {
    if (quiet_ || total <= 0) return;
    std::fflush(stdout);  // keep the bar after what was printed before it
    int pct = done * 100 / total;
    if (Interactive()) {
      int width = 30, filled = width * done / total;
      std::fprintf(stderr, "\r%s [%s%s] %3d%% %d/%d %s  ", label_.c_str(), std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), pct, done, total, what.c_str());
      if (done == total) std::fprintf(stderr, "(%.1fs)\n", Elapsed());
    } else if (pct / 10 != last_decile_ || done == total) {
      last_decile_ = pct / 10;
      std::fprintf(stderr, "%s %3d%% (%d/%d) %s %.1fs\n", label_.c_str(), pct, done, total, what.c_str(), Elapsed());
    }
    std::fflush(stderr);
  }
  double Elapsed() const { return std::chrono::duration<double>(Now() - start_).count(); }

 private:
  static std::chrono::steady_clock::time_point Now() { return std::chrono::steady_clock::now(); }
  std::string label_;
  bool quiet_;
  std::chrono::steady_clock::time_point start_;
  int last_decile_ = -1;
};

}  // namespace nbaprops::cli

#endif  // NBAPROPS_CLI_PROGRESS_H_
