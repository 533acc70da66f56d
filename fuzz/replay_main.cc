// Replays fuzz inputs without libFuzzer, for `make test`: every file under the directories (or the
// files) given on the command line goes once through the target's LLVMFuzzerTestOneInput, in name
// order. Exit 0 when all returned; 1 (naming the input) when one threw, or aborted/crashed (the
// signal handler names it before the default action ends the process). Under NBAPROPS_SANITIZE
// (make test-asan) ASan/UBSan report memory errors in the same run.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace {

namespace fs = std::filesystem;

const char* g_current = nullptr;  // the input being replayed, for the signal handler

void OnFatalSignal(int sig) {
  static const char kMsg[] = "fuzz replay: fatal signal while replaying ";
  (void)!write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
  if (g_current) (void)!write(STDERR_FILENO, g_current, std::strlen(g_current));
  (void)!write(STDERR_FILENO, "\n", 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

// Regular files under `path` (recursively), skipping dot files such as .gitkeep.
bool CollectInputs(const fs::path& path, std::vector<fs::path>* out) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    out->push_back(path);
    return true;
  }
  if (!fs::is_directory(path, ec)) return false;
  for (const auto& e : fs::recursive_directory_iterator(path, ec)) {
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out->push_back(e.path());
  }
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR_OR_FILE...  (replays each input through the fuzz target once)\n", argv[0]);
    return 2;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    if (!CollectInputs(argv[i], &inputs)) {
      std::fprintf(stderr, "fuzz replay: %s is neither a file nor a readable directory\n", argv[i]);
      return 2;
    }
  }
  std::sort(inputs.begin(), inputs.end());
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) signal(sig, OnFatalSignal);

  size_t bytes = 0;
  double slowest_s = 0;
  std::string slowest;
  for (const fs::path& p : inputs) {
    std::ifstream in(p, std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "fuzz replay: cannot read %s\n", p.c_str());
      return 2;
    }
    const std::string name = p.string();
    g_current = name.c_str();
    auto start = std::chrono::steady_clock::now();
    try {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(data.data()), data.size());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz replay: %s: the parser threw %s\n", name.c_str(), e.what());
      return 1;
    } catch (...) {
      std::fprintf(stderr, "fuzz replay: %s: the parser threw a non-std exception\n", name.c_str());
      return 1;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s > slowest_s) {
      slowest_s = s;
      slowest = name;
    }
    bytes += data.size();
  }
  g_current = nullptr;
  std::printf("fuzz replay: %zu inputs (%zu bytes) ok; slowest %.3f s (%s)\n", inputs.size(), bytes, slowest_s,
              slowest.c_str());
  return inputs.empty() ? 1 : 0;
}
