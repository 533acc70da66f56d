#include "base/svg_chart.h"

#include <gtest/gtest.h>

#include <clocale>
#include <cmath>
#include <string>
#include <string_view>

namespace nbaprops {
namespace {

size_t Count(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string_view::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

bool IsStandaloneSvg(const std::string& s) {
  return s.starts_with("<svg") && s.ends_with("</svg>\n") && Count(s, "<svg") == 1 && Count(s, "</svg>") == 1;
}

std::vector<ReliabilityBin> SampleBins() {
  // 0.0, 0.05 -> bin 0; 0.42 -> bin 4; 0.95, 1.0 -> bin 9; the other seven bins are empty.
  return Reliability({0.0, 0.05, 0.42, 0.95, 1.0}, {0, 1, 0, 1, 1}, 10);
}

TEST(SvgChartTest, ReliabilityDiagramIsDeterministicSvg) {
  const auto bins = SampleBins();
  const std::string a = ReliabilityDiagramSvg(bins, "calibration");
  EXPECT_TRUE(IsStandaloneSvg(a)) << a;
  EXPECT_EQ(a, ReliabilityDiagramSvg(bins, "calibration"));
  EXPECT_NE(a.find("predicted probability"), std::string::npos);
  EXPECT_NE(a.find("observed frequency"), std::string::npos);
  EXPECT_NE(a.find("perfect calibration"), std::string::npos);
  EXPECT_NE(a.find(">calibration</text>"), std::string::npos);
  // Ticks every 0.1 on both axes, labelled 0.0 .. 1.0.
  EXPECT_EQ(Count(a, ">0.5</text>"), 2u);
  EXPECT_EQ(Count(a, ">1.0</text>"), 2u);
}

TEST(SvgChartTest, ReliabilityDiagramDrawsOneCirclePerNonEmptyBin) {
  const auto bins = SampleBins();
  const std::string svg = ReliabilityDiagramSvg(bins, "t");
  EXPECT_EQ(Count(svg, "<circle"), 3u);
  EXPECT_EQ(Count(svg, "<polyline"), 1u);
  // The fuller bins (n = 2) get the larger radius.
  EXPECT_NE(svg.find("r=\"10.00\""), std::string::npos);
  EXPECT_EQ(Count(svg, "n=2,"), 2u);
  EXPECT_EQ(Count(svg, "n=1,"), 1u);
  EXPECT_EQ(svg.find("nan"), std::string::npos);

  const std::string none = ReliabilityDiagramSvg(Reliability({}, {}, 10), "t");
  EXPECT_TRUE(IsStandaloneSvg(none));
  EXPECT_EQ(Count(none, "<circle"), 0u);
  EXPECT_EQ(Count(none, "<polyline"), 0u);
  EXPECT_NE(none.find("no data"), std::string::npos);
}

TEST(SvgChartTest, ReliabilityPointPositionsFollowTheData) {
  // One bin at (0.5, 0.5) sits at the centre of the 380 px plot that starts at (70, 40).
  std::vector<ReliabilityBin> bins = {{0.4, 0.6, 4, 0.5, 0.5}};
  const std::string svg = ReliabilityDiagramSvg(bins, "t");
  EXPECT_NE(svg.find("<circle cx=\"260.00\" cy=\"230.00\""), std::string::npos) << svg;
}

TEST(SvgChartTest, EscapesCallerText) {
  const std::string svg = ReliabilityDiagramSvg(SampleBins(), "a<&>\"b");
  EXPECT_NE(svg.find("a&lt;&amp;&gt;&quot;b"), std::string::npos);
  EXPECT_EQ(svg.find("a<&>"), std::string::npos);

  const std::string line = LineChartSvg("x <&> y", {"<d1>", "d&2"}, {{"s\"1\"", {1, 2}}}, "units <m>");
  EXPECT_NE(line.find("x &lt;&amp;&gt; y"), std::string::npos);
  EXPECT_NE(line.find("&lt;d1&gt;"), std::string::npos);
  EXPECT_NE(line.find("d&amp;2"), std::string::npos);
  EXPECT_NE(line.find("s&quot;1&quot;"), std::string::npos);
  EXPECT_NE(line.find("units &lt;m&gt;"), std::string::npos);
  EXPECT_EQ(line.find("<d1>"), std::string::npos);
  EXPECT_EQ(line.find("<m>"), std::string::npos);

  // Deliberate (one escaper, base/strings.h): a newline is kept as a reference, no longer made a
  // space, and other control characters, which XML forbids, become '?'.
  const std::string lines = LineChartSvg("first\nsecond\x01", {"d"}, {{"it's", {1}}}, "u");
  EXPECT_NE(lines.find("first&#10;second?"), std::string::npos) << lines;
  EXPECT_NE(lines.find("it&#39;s"), std::string::npos) << lines;
  EXPECT_TRUE(IsStandaloneSvg(lines)) << lines;
}

TEST(SvgChartTest, LineChartOnePolylinePerSeries) {
  const std::vector<std::string> x = {"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"};
  const std::vector<Series> series = {
      {"alpha", {1, -2, 3, 4}}, {"beta", {0.5, 0.5, std::nan(""), 1}}, {"gamma", {-1, -1}}};
  const std::string a = LineChartSvg("trend", x, series, "units");
  EXPECT_TRUE(IsStandaloneSvg(a)) << a;
  EXPECT_EQ(a, LineChartSvg("trend", x, series, "units"));
  EXPECT_EQ(Count(a, "<polyline"), 3u);
  // Distinct colours, each used by one polyline and one legend swatch.
  EXPECT_EQ(Count(a, "stroke=\"#1f77b4\""), 2u);
  EXPECT_EQ(Count(a, "stroke=\"#ff7f0e\""), 2u);
  EXPECT_EQ(Count(a, "stroke=\"#2ca02c\""), 2u);
  EXPECT_NE(a.find(">alpha</text>"), std::string::npos);
  EXPECT_NE(a.find(">gamma</text>"), std::string::npos);
  EXPECT_NE(a.find(">units</text>"), std::string::npos);
  // The NaN is skipped, not printed: beta's polyline has three points.
  EXPECT_EQ(a.find("nan"), std::string::npos);
  const size_t beta = a.find("<polyline", a.find("<polyline") + 1);
  const size_t beta_end = a.find('"', a.find("points=\"", beta) + 8);
  EXPECT_EQ(Count(std::string_view(a).substr(beta, beta_end - beta), ","), 3u);
  for (const auto& label : x) EXPECT_NE(a.find(">" + label + "</text>"), std::string::npos) << label;
}

TEST(SvgChartTest, LineChartRangeIncludesZero) {
  // All-positive data 10..20 padded by 5% gives the range [-1, 21] over the 280 px plot that starts at
  // y = 40: 0 maps to 40 + 21/22 * 280 = 307.27, 10 to 180 and 20 to 52.73.
  const std::string svg = LineChartSvg("t", {"a", "b"}, {{"s", {10, 20}}}, "");
  EXPECT_NE(svg.find("x1=\"70.00\" y1=\"307.27\" x2=\"630.00\" y2=\"307.27\" stroke=\"black\""), std::string::npos)
      << svg;
  EXPECT_NE(svg.find("points=\"70.00,180.00 630.00,52.73\""), std::string::npos) << svg;
}

TEST(SvgChartTest, LineChartLimitsXLabels) {
  std::vector<std::string> x;
  std::vector<double> y;
  for (int i = 0; i < 95; ++i) {
    x.push_back("L" + std::to_string(i));
    y.push_back(i % 7 - 3);
  }
  const std::string svg = LineChartSvg("t", x, {{"s", y}}, "");
  size_t shown = 0;
  for (const auto& label : x) shown += Count(svg, ">" + label + "</text>");
  EXPECT_EQ(shown, 10u);
  EXPECT_NE(svg.find(">L0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">L94</text>"), std::string::npos);
}

TEST(SvgChartTest, LineChartWithoutDataSaysSo) {
  for (const std::string& svg : {LineChartSvg("empty <1>", {}, {}, "y"), LineChartSvg("t", {"a"}, {{"s", {}}}, "y"),
                                 LineChartSvg("t", {}, {{"s", {std::nan(""), INFINITY}}}, "y")}) {
    EXPECT_TRUE(IsStandaloneSvg(svg)) << svg;
    EXPECT_NE(svg.find("no data"), std::string::npos);
    EXPECT_EQ(Count(svg, "<polyline"), 0u);
    EXPECT_EQ(svg.find("nan"), std::string::npos);
    EXPECT_EQ(svg.find("inf"), std::string::npos);
  }
  EXPECT_NE(LineChartSvg("empty <1>", {}, {}, "y").find("empty &lt;1&gt;"), std::string::npos);
}

TEST(SvgChartTest, NumbersIgnoreTheCLocale) {
  const std::string before = LineChartSvg("t", {"a", "b"}, {{"s", {0.25, -1.5}}}, "");
  // A comma-decimal locale must not leak into attribute values; skip if none is installed.
  if (std::setlocale(LC_NUMERIC, "de_DE.UTF-8") == nullptr) GTEST_SKIP() << "de_DE.UTF-8 locale not installed";
  const std::string after = LineChartSvg("t", {"a", "b"}, {{"s", {0.25, -1.5}}}, "");
  std::setlocale(LC_NUMERIC, "C");
  EXPECT_EQ(before, after);
}

}  // namespace
TEST(SvgChartTest, ReliabilityDiagramDrawsEachSeriesInItsColourWithALegend) {
  std::vector<ReliabilitySeries> two = {{"model", {{0.4, 0.6, 4, 0.5, 0.5}}}, {"market <vig-free>", {{0.4, 0.6, 9, 0.45, 0.55}}}};
  const std::string svg = ReliabilityDiagramSvg(two, "t");
  EXPECT_NE(svg.find(">model</text>"), std::string::npos);
  EXPECT_NE(svg.find(">market &lt;vig-free&gt;</text>"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#1f77b4\" stroke-width"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"#ff7f0e\" stroke-width"), std::string::npos);
  EXPECT_EQ(svg.find("no data"), std::string::npos);
}

}  // namespace nbaprops
