#include "base/svg_chart.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "base/strings.h"

namespace nbaprops {
namespace {

// Fixed decimals via std::to_chars: unlike printf it ignores the C locale (a "," decimal separator
// would corrupt attribute values) and is specified to give the same digits everywhere. Non-finite input
// would print "nan"/"inf", which is not a valid SVG length; callers skip such values, and this is the
// backstop that keeps the document well-formed regardless.
std::string Num(double v, int decimals = 2) {
  if (!std::isfinite(v)) v = 0;
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return "0";
  std::string s(buf, end);
  // -0.001 prints as "-0.00"; drop the sign so equal-looking numbers are equal bytes.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string SvgOpen(int width, int height) {
  const std::string w = std::to_string(width), h = std::to_string(height);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + w + "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " +
         h + "\" font-family=\"sans-serif\" font-size=\"12\">\n" + "<rect x=\"0\" y=\"0\" width=\"" + w +
         "\" height=\"" + h + "\" fill=\"white\"/>\n";
}

constexpr std::string_view kSvgClose = "</svg>\n";

// `extra` is raw attribute text (trusted, ours); `content` is caller text and gets escaped.
std::string Text(double x, double y, std::string_view content, std::string_view extra = "") {
  std::string out = "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\"";
  if (!extra.empty()) out += " " + std::string(extra);
  return out + ">" + MarkupEscape(content) + "</text>\n";
}

std::string Line(double x1, double y1, double x2, double y2, std::string_view style) {
  return "<line x1=\"" + Num(x1) + "\" y1=\"" + Num(y1) + "\" x2=\"" + Num(x2) + "\" y2=\"" + Num(y2) + "\" " +
         std::string(style) + "/>\n";
}

std::string Title(double width, std::string_view title) {
  return Text(width / 2, 24, title, "text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\"");
}

// A y-axis label centred on the plot's vertical extent, reading bottom to top.
std::string VerticalLabel(double x, double y, std::string_view label) {
  return Text(x, y, label, "text-anchor=\"middle\" transform=\"rotate(-90 " + Num(x) + " " + Num(y) + ")\"");
}

// Reliability diagram geometry: a square plot so the diagonal is at 45 degrees.
constexpr int kRelSize = 480;
constexpr double kRelLeft = 70, kRelTop = 40, kRelPlot = 380;

double RelX(double p) { return kRelLeft + p * kRelPlot; }
double RelY(double p) { return kRelTop + (1 - p) * kRelPlot; }

// Line chart geometry; the right margin holds the legend.
constexpr int kLineWidth = 800, kLineHeight = 400;
constexpr double kLineLeft = 70, kLineTop = 40, kLinePlotW = 560, kLinePlotH = 280;
constexpr int kMaxXLabels = 10;

// Distinguishable on white and for the common forms of colour blindness; series beyond ten reuse
// colours in order, which keeps a series' colour stable when later series are added.
constexpr std::string_view kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

// Tick spacing of 1, 2 or 5 times a power of ten giving about `target` intervals over `span`.
double NiceStep(double span, int target) {
  const double raw = span / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

}  // namespace

std::string ReliabilityDiagramSvg(const std::vector<ReliabilityBin>& bins, const std::string& title) {
  return ReliabilityDiagramSvg(std::vector<ReliabilitySeries>{{"", bins}}, title);
}

std::string ReliabilityDiagramSvg(const std::vector<ReliabilitySeries>& series, const std::string& title) {
  std::string out = SvgOpen(kRelSize, kRelSize);
  out += Title(kRelSize, title);

  const double bottom = RelY(0), right = RelX(1);
  for (int i = 0; i <= 10; ++i) {
    const double v = i / 10.0;
    out += Line(RelX(v), kRelTop, RelX(v), bottom, "stroke=\"#e6e6e6\"");
    out += Line(kRelLeft, RelY(v), right, RelY(v), "stroke=\"#e6e6e6\"");
    out += Line(RelX(v), bottom, RelX(v), bottom + 5, "stroke=\"black\"");
    out += Line(kRelLeft - 5, RelY(v), kRelLeft, RelY(v), "stroke=\"black\"");
    out += Text(RelX(v), bottom + 18, Num(v, 1), "text-anchor=\"middle\" font-size=\"10\"");
    out += Text(kRelLeft - 8, RelY(v) + 3.5, Num(v, 1), "text-anchor=\"end\" font-size=\"10\"");
  }
  out += "<rect x=\"" + Num(kRelLeft) + "\" y=\"" + Num(kRelTop) + "\" width=\"" + Num(kRelPlot) + "\" height=\"" +
         Num(kRelPlot) + "\" fill=\"none\" stroke=\"black\"/>\n";
  out += Text(kRelLeft + kRelPlot / 2, bottom + 42, "predicted probability", "text-anchor=\"middle\"");
  out += VerticalLabel(kRelLeft - 45, kRelTop + kRelPlot / 2, "observed frequency");

  out += Line(RelX(0), RelY(0), RelX(1), RelY(1), "stroke=\"#888888\" stroke-dasharray=\"6 4\"");
  out += Line(kRelLeft + 12, kRelTop + 16, kRelLeft + 36, kRelTop + 16, "stroke=\"#888888\" stroke-dasharray=\"6 4\"");
  out += Text(kRelLeft + 42, kRelTop + 20, "perfect calibration", "font-size=\"11\"");

  bool any = false;
  for (size_t k = 0; k < series.size(); ++k) {
    const std::string colour(kPalette[k % std::size(kPalette)]);
    if (!series[k].name.empty()) {
      const double y = kRelTop + 34 + 16 * static_cast<double>(k);
      out += "<circle cx=\"" + Num(kRelLeft + 24) + "\" cy=\"" + Num(y - 4) + "\" r=\"4\" fill=\"" + colour + "\"/>\n";
      out += Text(kRelLeft + 42, y, series[k].name, "font-size=\"11\"");
    }
    std::vector<const ReliabilityBin*> drawn;
    int64_t max_n = 0;
    for (const auto& b : series[k].bins) {
      if (b.n <= 0 || !std::isfinite(b.mean_predicted) || !std::isfinite(b.observed_rate)) continue;
      drawn.push_back(&b);
      max_n = std::max(max_n, b.n);
    }
    if (drawn.empty()) continue;
    any = true;
    std::string points;
    for (const auto* b : drawn) {
      if (!points.empty()) points += ' ';
      points += Num(RelX(b->mean_predicted)) + "," + Num(RelY(b->observed_rate));
    }
    out += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"1.5\"/>\n";
    for (const auto* b : drawn) {
      // Area proportional to n, so the eye weighs bins by how much evidence they hold.
      const double r = 2 + 8 * std::sqrt(static_cast<double>(b->n) / static_cast<double>(max_n));
      out += "<circle cx=\"" + Num(RelX(b->mean_predicted)) + "\" cy=\"" + Num(RelY(b->observed_rate)) + "\" r=\"" +
             Num(r) + "\" fill=\"" + colour + "\" fill-opacity=\"0.6\" stroke=\"" + colour + "\"><title>" +
             MarkupEscape(series[k].name + (series[k].name.empty() ? "" : " ") + "[" + Num(b->lo) + ", " + Num(b->hi) +
                          "): n=" + std::to_string(b->n) + ", predicted " + Num(b->mean_predicted, 3) +
                          ", observed " + Num(b->observed_rate, 3)) +
             "</title></circle>\n";
    }
  }
  if (!any) {
    out += Text(kRelLeft + kRelPlot / 2, kRelTop + kRelPlot / 2, "no data", "text-anchor=\"middle\" fill=\"#888888\"");
  }
  return out += kSvgClose;
}

std::string LineChartSvg(const std::string& title, const std::vector<std::string>& x_labels,
                         const std::vector<Series>& series, const std::string& y_label) {
  std::string out = SvgOpen(kLineWidth, kLineHeight);
  out += Title(kLineWidth, title);

  size_t n = x_labels.size();
  double lo = 0, hi = 0;  // 0 is always in range so the zero line is always drawn
  bool any = false;
  for (const auto& s : series) {
    n = std::max(n, s.y.size());
    for (double v : s.y) {
      if (!std::isfinite(v)) continue;
      any = true;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!any || !std::isfinite(hi - lo)) {
    out += Text(kLineWidth / 2.0, kLineHeight / 2.0, "no data", "text-anchor=\"middle\" fill=\"#888888\"");
    return out += kSvgClose;
  }
  if (hi == lo) {  // all zeros: any symmetric range shows them on the zero line
    lo = -1;
    hi = 1;
  } else {
    const double pad = 0.05 * (hi - lo);
    lo -= pad;
    hi += pad;
  }

  const double bottom = kLineTop + kLinePlotH, right = kLineLeft + kLinePlotW;
  auto px = [&](size_t i) {
    return n == 1 ? kLineLeft + kLinePlotW / 2
                  : kLineLeft + kLinePlotW * static_cast<double>(i) / static_cast<double>(n - 1);
  };
  auto py = [&](double v) { return kLineTop + (hi - v) / (hi - lo) * kLinePlotH; };

  // Y ticks at multiples of a round step; integer multiples avoid accumulating rounding in the labels.
  const double step = NiceStep(hi - lo, 5);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step))));
  for (double k = std::ceil(lo / step); k * step <= hi; ++k) {
    const double v = k * step;
    out += Line(kLineLeft, py(v), right, py(v), "stroke=\"#e6e6e6\"");
    out += Line(kLineLeft - 5, py(v), kLineLeft, py(v), "stroke=\"black\"");
    out += Text(kLineLeft - 8, py(v) + 3.5, Num(v, decimals), "text-anchor=\"end\" font-size=\"10\"");
  }
  out += Line(kLineLeft, py(0), right, py(0), "stroke=\"black\" stroke-width=\"1\"");

  // X labels: indices round(k * (n-1) / (m-1)) spread evenly and include both ends. Rotated so that
  // ten date-length labels fit without overlapping.
  const size_t m = std::min<size_t>(n, kMaxXLabels);
  for (size_t k = 0; k < m; ++k) {
    const size_t i = m == 1 ? 0 : (k * (n - 1) + (m - 1) / 2) / (m - 1);
    out += Line(px(i), bottom, px(i), bottom + 5, "stroke=\"black\"");
    if (i >= x_labels.size()) continue;
    const double x = px(i), y = bottom + 16;
    out += Text(x, y, x_labels[i],
                "text-anchor=\"end\" font-size=\"10\" transform=\"rotate(-30 " + Num(x) + " " + Num(y) + ")\"");
  }
  out += "<rect x=\"" + Num(kLineLeft) + "\" y=\"" + Num(kLineTop) + "\" width=\"" + Num(kLinePlotW) + "\" height=\"" +
         Num(kLinePlotH) + "\" fill=\"none\" stroke=\"black\"/>\n";
  out += VerticalLabel(22, kLineTop + kLinePlotH / 2, y_label);

  const double legend_x = right + 20;
  for (size_t s = 0; s < series.size(); ++s) {
    const std::string colour(kPalette[s % std::size(kPalette)]);
    std::string points;
    for (size_t i = 0; i < series[s].y.size(); ++i) {
      if (!std::isfinite(series[s].y[i])) continue;
      if (!points.empty()) points += ' ';
      points += Num(px(i));
      points += ',';
      points += Num(py(series[s].y[i]));
    }
    out.append("<polyline points=\"").append(points).append("\" fill=\"none\" stroke=\"").append(colour);
    out.append("\" stroke-width=\"2\" stroke-linejoin=\"round\"><title>").append(MarkupEscape(series[s].name));
    out.append("</title></polyline>\n");
    const double ly = kLineTop + 10 + 18 * static_cast<double>(s);
    out += Line(legend_x, ly, legend_x + 20, ly, "stroke=\"" + colour + "\" stroke-width=\"2\"");
    out += Text(legend_x + 26, ly + 4, series[s].name, "font-size=\"11\"");
  }
  return out += kSvgClose;
}

}  // namespace nbaprops
