// The dashboard page as served: what it shows of the seeded state, escaped, with no external
// asset. (tests/dashboard_browser_test.cc renders it in Chromium.)
#include <gtest/gtest.h>

#include <string>

#include "api/server_test_fixture.h"

namespace nbaprops::api {
namespace {

using test::Count;
using test::json;
using test::kDate;
using test::kNowMs;
using test::kToken;
using test::ServerTest;
using test::TempDir;

TEST_F(ServerTest, DashboardShowsThePipelineWithoutExternalAssets) {
  auto r = Get("/");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string& html = r->body;
  auto has = [&](const std::string& s) { return html.find(s) != std::string::npos; };
  EXPECT_TRUE(has("<meta http-equiv=\"refresh\" content=\"30\">"));
  EXPECT_TRUE(has("<table id=\"grid\">"));
  // The worst latest run of phase 5 on the date is the dead letter; phase 3 all succeeded.
  EXPECT_TRUE(has("class=\"cell state-dead\" data-phase=\"5\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-succeeded\" data-phase=\"3\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-failed\" data-phase=\"4\" data-date=\"2024-01-31\""));
  EXPECT_TRUE(has("class=\"cell state-queued\" data-phase=\"3\" data-date=\"2024-02-01\""));
  EXPECT_TRUE(has("<ul id=\"incidents\">"));
  EXPECT_TRUE(has("data-key=\"deadline_missed:predictions:2024-01-31\""));
  EXPECT_TRUE(has("predictions for 2024-01-31 missed &quot;their&quot; &lt;deadline&gt;"));  // escaped
  EXPECT_FALSE(has("schedule_missed:old"));
  EXPECT_TRUE(
      has("<ul id=\"alert-channels\"><li class=\"alert-channel severity-critical\" data-channel=\"slack-ops\""));
  EXPECT_TRUE(has("<div id=\"banner\" class=\"banner\" role=\"alert\">Alert channel broken: slack-ops."));
  EXPECT_TRUE(has("<table id=\"dead-letters\">"));
  EXPECT_TRUE(has("<tr data-id=\"" + std::to_string(dead_letter_) + "\">"));
  EXPECT_TRUE(has("<tr class=\"breaker state-open\" data-source=\"odds_api\">"));
  EXPECT_TRUE(has("<tr class=\"deadline state-missed\" data-deadline=\"predictions\" data-date=\"2024-01-31\">"));
  EXPECT_TRUE(has("<div id=\"latency-chart\" class=\"chart\" data-points=\"1\"><svg"));
  EXPECT_TRUE(has("<div id=\"hit-rate-chart\" class=\"chart\" data-points=\"2\"><svg"));
  EXPECT_TRUE(has("<div id=\"registry-backlog\" data-pending=\"1\">"));
  EXPECT_TRUE(has("Nic Claxton"));
  // Every asset is in the page: no script, no external stylesheet, image or font.
  EXPECT_FALSE(has("<script"));
  EXPECT_FALSE(has("src=\""));
  EXPECT_FALSE(has("<link"));
  EXPECT_FALSE(has("href=\"http"));
  EXPECT_FALSE(has("url("));
}

}  // namespace
}  // namespace nbaprops::api
