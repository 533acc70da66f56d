// Self-contained SVG charts for evaluation reports: no plotting library, no scripts, no external fonts
// or stylesheets, so a report is one file that opens in any browser and diffs cleanly in review.
//
// Output is a complete standalone <svg> document ending in "</svg>\n". It is a pure function of the
// arguments: numbers are printed with a fixed number of decimals and independently of the C locale,
// so identical input gives identical bytes (reports can be golden-tested and cached by content hash).
// All caller text (titles, labels, series names) is XML-escaped. Non-finite values are never
// written into the document; they are skipped as described per function. Thread-safe.
#ifndef NBAPROPS_BASE_SVG_CHART_H_
#define NBAPROPS_BASE_SVG_CHART_H_

#include <string>
#include <vector>

#include "base/stats.h"

namespace nbaprops {

// Reliability (calibration) diagram, 480x480: predicted probability on x, observed frequency on y,
// both 0..1 with ticks every 0.1, and the dashed diagonal of perfect calibration. Each bin with n > 0
// (and finite means) is one <circle> at (mean_predicted, observed_rate) whose radius grows with
// sqrt(n) relative to the largest bin, so sparse bins look as uncertain as they are; the circles are
// joined in bin order by one <polyline>. Empty bins are not drawn.
std::string ReliabilityDiagramSvg(const std::vector<ReliabilityBin>& bins, const std::string& title);

// Several forecasters on one diagram (e.g. a model and the market), each in its palette colour with
// a legend entry of its name.
struct ReliabilitySeries {
  std::string name;
  std::vector<ReliabilityBin> bins;
};
std::string ReliabilityDiagramSvg(const std::vector<ReliabilitySeries>& series, const std::string& title);

// One line of a LineChartSvg: y[i] is plotted above x_labels[i].
struct Series {
  std::string name;
  std::vector<double> y;
};

// Line chart, 800x400, for values over an ordered axis (dates, run numbers). The y range covers all
// finite values and 0, plus 5% padding, with a solid zero line so sign changes stand out. At most 10
// x labels are shown, evenly spread and always including the first and last point. Each series is
// exactly one <polyline> (colours cycle through a fixed 10-colour palette) plus a legend entry;
// non-finite values are skipped and the line joins their neighbours. With no finite value at all the
// chart is just the title and "no data".
std::string LineChartSvg(const std::string& title, const std::vector<std::string>& x_labels,
                         const std::vector<Series>& series, const std::string& y_label);

}  // namespace nbaprops

#endif  // NBAPROPS_BASE_SVG_CHART_H_
