#pragma once

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace autolrs::report {

/// printf-style formatting into a string, for short texts (cut at 255 bytes).
template <typename... Values>
std::string printf_text(const char* pattern, Values... values) {
  char text[256];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

/// Escapes text for HTML and SVG content and attribute values: & < > " ' become character references.
std::string escape_html(std::string_view text);

/// A number for labels and tables: 0; plain decimals with up to `significant` digits for
/// 1e-3 ≤ |value| < 1e5 ("0.002", "2500", "0.25"); otherwise mantissa×10 with a Unicode
/// superscript exponent ("10⁻⁴", "2.5×10⁶"). "NaN" and "∞" for non-finite values.
std::string format_number(double value, int significant = 3);

/// A count (of steps) for tick labels: "950", "12k", "1.5k", "2.5M".
std::string format_count(double value);

/// Tick labels that tell neighbouring ticks apart: format_number with the fewest significant digits,
/// from 3 up to 10, at which no two neighbours read the same (a narrow loss range needs more than 3:
/// "0.07515", "0.0752", "0.07525"); format_count for `counts`.
std::vector<std::string> tick_labels(const std::vector<double>& ticks, bool counts);

struct Point {
  double x = 0, y = 0;
};

/// At most `max_points` (≥ 4) points of a series sorted by x that keep its shape: the first and last
/// points, and the lowest and highest point of each of (max_points − 2) / 2 runs of equal length in
/// between, in x order. A series of at most `max_points` points is returned unchanged.
/// Throws std::invalid_argument for max_points < 4.
std::vector<Point> decimate(const std::vector<Point>& points, std::size_t max_points);

/// Each point's y replaced by the mean of the finite y values among it and the `window` − 1 points
/// before it (trailing moving average, window ≥ 1); points with none finite are dropped.
std::vector<Point> trailing_mean(const std::vector<Point>& points, std::size_t window);

/// "Nice" tick values (1, 2 or 5 × 10^k apart, Heckbert, "Nice numbers for graph labels",
/// Graphics Gems 1990) inside [lo, hi], about `target_count` of them. Empty when lo > hi or either is
/// not finite; {lo} when lo == hi.
std::vector<double> linear_ticks(double lo, double hi, int target_count);

/// Ticks for a log axis over [lo, hi] (0 < lo ≤ hi): the powers of ten inside (every k-th one when
/// there are more than 8); with fewer than three, the 1, 2, 5 multiples; with fewer than two of
/// those, linear_ticks(lo, hi, 4). Empty for a range that is not positive and finite.
std::vector<double> log_ticks(double lo, double hi);

enum class AxisKind { linear, log };

/// One axis of a plot: its data range, how it is drawn and labelled.
struct Axis {
  AxisKind kind = AxisKind::linear;
  double lo = 0, hi = 1;      ///< data range shown; for log axes 0 < lo
  std::string label;          ///< with units, e.g. "model step"
  bool counts = false;        ///< tick labels as counts (format_count) rather than format_number
};

/// Tracks the extent of values, ignoring non-finite ones (and, for log axes, values ≤ 0).
class Extent {
 public:
  explicit Extent(AxisKind kind = AxisKind::linear) : m_kind(kind) {}
  void add(double value);
  bool empty() const { return m_count == 0; }
  double lo() const { return m_lo; }
  double hi() const { return m_hi; }
  /// The range padded by `fraction` of its width on each side (in log space for log axes); a
  /// single value becomes a range around it; `fallback_lo`..`fallback_hi` when empty.
  Axis axis(std::string label, double fraction, double fallback_lo, double fallback_hi) const;

 private:
  AxisKind m_kind;
  double m_lo = 0, m_hi = 0;
  std::size_t m_count = 0;
};

/// Maps a data value to a pixel coordinate along an axis (log10 for log axes).
class Scale {
 public:
  Scale(const Axis& axis, double px_lo, double px_hi);
  /// Pixel of `value`; values ≤ 0 on a log axis map to px_lo. Values outside the range map outside
  /// the pixel range (the plot clips them).
  double px(double value) const;
  /// Whether `value` can be placed on this axis (finite, and > 0 on a log axis).
  bool representable(double value) const;

 private:
  double transform(double value) const;
  AxisKind m_kind;
  double m_lo, m_hi, m_px_lo, m_px_hi;
};

struct LineStyle {
  std::string color = "#333";
  double width = 1.5;
  double opacity = 1;
  std::string dash;  ///< SVG stroke-dasharray, e.g. "4 3"; empty for solid
};

enum class Marker { circle, cross, triangle };

/// An SVG chart with two axes, gridlines and tick labels, built element by element; data outside
/// the axis ranges is clipped to the plot area. Titles and legends are left to the HTML around it.
class SvgPlot {
 public:
  /// `id` must be unique in the document (it names the clip path); width and height in px.
  SvgPlot(std::string id, int width, int height, Axis x, Axis y);

  /// A polyline through the representable points, decimated to `max_points`; a gap in the
  /// representable points (NaN, ≤ 0 on a log axis) is bridged; a single point is drawn as a dot.
  /// `tooltip` shows on hover.
  void add_line(const std::vector<Point>& points, const LineStyle& style, std::size_t max_points,
                const std::string& tooltip = "");
  /// The area between `lower` and `upper` (same x values, sorted), filled.
  void add_band(const std::vector<Point>& lower, const std::vector<Point>& upper, const std::string& color, double opacity);
  void add_marker(Point at, Marker marker, const std::string& color, const std::string& tooltip);
  /// A marker at x on the top edge of the plot area, for values off the chart (failed probes).
  void add_top_marker(double x, Marker marker, const std::string& color, const std::string& tooltip);
  void add_error_bar(double x, double y_lo, double y_hi, const std::string& color);
  /// A vertical line across the plot area with an optional label at its top.
  void add_vertical_line(double x, const LineStyle& style, const std::string& label);
  /// Shades [x_lo, x_hi] over the plot's full height, with a label near its top (when it is wide enough).
  void add_x_span(double x_lo, double x_hi, const std::string& color, double opacity, const std::string& label);
  /// A message centred in the plot area (e.g. "no data yet").
  void add_note(const std::string& text);

  /// The <svg> element, with `aria_label` as its accessible name.
  std::string render(const std::string& aria_label) const;

 private:
  std::string axes() const;

  std::string m_id;
  int m_width, m_height;
  Axis m_x, m_y;
  double m_left, m_right, m_top, m_bottom;  ///< plot-area edges in px
  Scale m_x_scale, m_y_scale;
  std::string m_clipped;  ///< data elements, clipped to the plot area
  std::string m_overlay;  ///< labels drawn over everything, unclipped
};

}  // namespace autolrs::report
