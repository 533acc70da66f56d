// The dashboard in a real browser: the real `nbaprops` binary builds a small database (the first
// two weeks of the bundled season) and serves it with `serve --http`; headless Chromium loads `/`,
// and the test reads the rendered DOM (grid cells with run states, an incident injected into the
// database) and keeps a screenshot in <build>/test-artifacts/. The page has no script at all
// (api/server_test.cc checks it), so what Chromium renders is what a browser without JavaScript
// shows; Chromium's own --dump-dom and --screenshot need JavaScript enabled, so it stays on here.
// Skips, naming the package to install, when Chromium is missing.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "engine/incidents.h"
#include "tests/test_util.h"

namespace nbaprops {
namespace {

using testing::TempDir;
using Steady = std::chrono::steady_clock;

constexpr char kChromium[] = "/usr/bin/chromium";

int Sh(const std::string& cmd) { return std::system(cmd.c_str()); }

// Runs a shell command and returns its stdout.
std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// Starts the binary with `args` and extra environment, stdout and stderr to `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::vector<std::string>& env, const std::string& log) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ::dup2(fd, 1);
  ::dup2(fd, 2);
  for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(NBAPROPS_BINARY));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(NBAPROPS_BINARY, argv.data());
  ::_exit(127);
}

// Kills and reaps the child if the test stops early, so no server outlives a failed assertion.
struct ChildGuard {
  pid_t pid = 0;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

int CountOf(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

TEST(DashboardBrowserTest, ChromiumRendersTheGridAndAnInjectedIncident) {
  if (!std::filesystem::exists(kChromium)) {
    GTEST_SKIP() << kChromium << " is missing: install it with `apt-get install chromium` (scripts/setup.sh does) "
                 << "to run the dashboard browser test";
  }
  TempDir dir;
  const std::string bin = NBAPROPS_BINARY;
  const std::string db = dir.File("dash.db"), exports = dir.File("exports");
  const std::string data = std::string(NBAPROPS_SOURCE_DIR) + "/data/2023-24";
  const std::string env = "NBAPROPS_EXPORT_DIR=" + exports + " ";
  ASSERT_EQ(Sh(env + bin + " init --db " + db + " > /dev/null"), 0);
  ASSERT_EQ(Sh(env + bin + " import -q " + data + " --db " + db + " > /dev/null"), 0);
  ASSERT_EQ(Sh(env + bin + " backfill -q --from 2023-10-24 --to 2023-11-05 --db " + db + " > /dev/null"), 0);
  {
    auto store = testing::OpenTestStore(db);
    ASSERT_TRUE(store
                    ->WithWrite([](store::Transaction& t) {
                      return engine::OpenIncident(t, "browser_test:injected", "critical",
                                                  "an incident injected by the browser test", "{}", 1'700'000'000'000);
                    })
                    .ok());
  }

  // Port 0: the kernel picks a free port, which serve prints.
  const std::string log = dir.File("serve.log");
  pid_t serve =
      Spawn({"serve", "--http", "127.0.0.1:0", "--workers", "1", "--db", db}, {"NBAPROPS_EXPORT_DIR=" + exports}, log);
  ASSERT_GT(serve, 0);
  ChildGuard guard{serve};
  int port = 0;
  for (auto t0 = Steady::now(); port == 0 && Steady::now() - t0 < std::chrono::seconds(20);) {
    std::smatch m;
    const std::string text = testing::FileText(log);
    if (std::regex_search(text, m, std::regex(R"(on http://127\.0\.0\.1:(\d+)/)")))
      port = std::stoi(m[1]);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GT(port, 0) << "serve never reported its HTTP port:\n" << testing::FileText(log);
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/health");
  ASSERT_TRUE(health && health->status == 200) << testing::FileText(log);

  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  const std::string chromium = "timeout 120 " + std::string(kChromium) +
                               " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
                               "--disable-component-update --disable-sync ";
  // The DOM as rendered.
  const std::string dom = Capture(chromium + "--user-data-dir=" + dir.File("profile-dom") + " --dump-dom " + url +
                                  " 2> " + dir.File("chromium-dom.log"));
  ASSERT_NE(dom.find("<table id=\"grid\">"), std::string::npos)
      << "no grid in the rendered DOM:\n"
      << dom.substr(0, 2000) << testing::FileText(dir.File("chromium-dom.log"));
  // 13 dates x phases 3-6, every run succeeded.
  EXPECT_GE(CountOf(dom, "class=\"cell state-succeeded\""), 13 * 4) << dom;
  EXPECT_EQ(CountOf(dom, "class=\"cell state-failed\""), 0);
  EXPECT_EQ(CountOf(dom, "class=\"cell state-"), CountOf(dom, "<td class=\"cell "));  // every cell has a state
  for (const char* date : {"2023-10-24", "2023-11-05"}) {
    EXPECT_NE(dom.find("data-phase=\"3\" data-date=\"" + std::string(date) + "\""), std::string::npos) << date;
  }
  const size_t incidents = dom.find("<ul id=\"incidents\">");
  ASSERT_NE(incidents, std::string::npos);
  const size_t incident = dom.find("data-key=\"browser_test:injected\"", incidents);
  EXPECT_NE(incident, std::string::npos) << "the injected incident is not in #incidents";
  EXPECT_LT(incident, dom.find("</ul>", incidents));
  EXPECT_NE(dom.find("an incident injected by the browser test"), std::string::npos);
  EXPECT_NE(dom.find("<div id=\"latency-chart\""), std::string::npos);
  EXPECT_NE(dom.find("<div id=\"hit-rate-chart\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"registry-backlog\""), std::string::npos);

  // The screenshot, kept as an artifact of the build.
  const std::string artifacts = std::string(NBAPROPS_BUILD_DIR) + "/test-artifacts";
  std::filesystem::create_directories(artifacts);
  const std::string png = artifacts + "/dashboard.png";
  std::filesystem::remove(png);
  Sh(chromium + "--user-data-dir=" + dir.File("profile-shot") + " --screenshot=" + png + " --window-size=1400,1000 " +
     url + " > " + dir.File("chromium-shot.log") + " 2>&1");
  ASSERT_TRUE(std::filesystem::exists(png)) << testing::FileText(dir.File("chromium-shot.log"));
  const std::string image = testing::FileText(png);
  EXPECT_GT(image.size(), 10'000u);
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  RecordProperty("screenshot", png);
  std::printf("dashboard screenshot: %s\n", png.c_str());

  // SIGTERM drains and exits 0.
  ASSERT_EQ(::kill(serve, SIGTERM), 0);
  int status = 0;
  pid_t done = 0;
  for (auto t0 = Steady::now(); done == 0 && Steady::now() - t0 < std::chrono::seconds(30);) {
    done = ::waitpid(serve, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(done, serve) << "serve did not exit within 30 s of SIGTERM";
  guard.pid = 0;
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << testing::FileText(log);
  EXPECT_NE(testing::FileText(log).find("SIGTERM received, draining"), std::string::npos);
}

}  // namespace
}  // namespace nbaprops
