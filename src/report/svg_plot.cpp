#include "report/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace autolrs::report {

namespace {

/// Pixel coordinate with one decimal: enough for a 1200 px screen, short in the file.
std::string px(double value) { return printf_text("%.1f", value); }

std::string superscript(int exponent) {
  static const char* const digits[] = {"⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"};
  std::string text = exponent < 0 ? "⁻" : "";
  const std::string decimal = std::to_string(std::abs(exponent));
  for (char digit : decimal) text += digits[digit - '0'];
  return text;
}

/// Removes trailing zeros after a decimal point ("2.50" → "2.5", "3.0" → "3").
std::string trim_zeros(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

double nice_step(double raw_step) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw_step)));
  const double fraction = raw_step / magnitude;
  const double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  return nice * magnitude;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&#39;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

std::string format_number(double value, int significant) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "∞" : "−∞";
  if (value == 0) return "0";
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e-3 && magnitude < 1e5) {
    const int exponent = static_cast<int>(std::floor(std::log10(magnitude)));
    const int decimals = std::max(0, significant - 1 - exponent);
    return trim_zeros(printf_text("%.*f", decimals, value));
  }
  // Scientific: mantissa from %e so that rounding carries into the exponent (9.999e-5 → 1e-4).
  const std::string scientific = printf_text("%.*e", std::max(0, significant - 1), value);
  const size_t e = scientific.find('e');
  const std::string mantissa = trim_zeros(scientific.substr(0, e));
  const int exponent = std::stoi(scientific.substr(e + 1));
  const std::string power = "10" + superscript(exponent);
  if (mantissa == "1") return power;
  if (mantissa == "-1") return "−" + power;
  return mantissa + "×" + power;
}

std::string format_count(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 1e6) return trim_zeros(printf_text("%.2f", value / 1e6)) + "M";
  if (magnitude >= 1e4) return trim_zeros(printf_text("%.1f", value / 1e3)) + "k";
  return trim_zeros(printf_text("%.2f", value));
}

std::vector<Point> decimate(const std::vector<Point>& points, std::size_t max_points) {
  if (max_points < 4) throw std::invalid_argument("decimate: max_points must be at least 4");
  if (points.size() <= max_points) return points;
  std::vector<Point> kept;
  kept.reserve(max_points);
  kept.push_back(points.front());
  const std::size_t inner = points.size() - 2;
  const std::size_t buckets = (max_points - 2) / 2;
  for (std::size_t bucket = 0; bucket < buckets; ++bucket) {
    const auto begin = points.begin() + 1 + static_cast<std::ptrdiff_t>(bucket * inner / buckets);
    const auto end = points.begin() + 1 + static_cast<std::ptrdiff_t>((bucket + 1) * inner / buckets);
    if (begin == end) continue;
    const auto by_y = [](const Point& a, const Point& b) { return a.y < b.y; };
    const auto [lowest, highest] = std::minmax_element(begin, end, by_y);
    if (lowest == highest) {
      kept.push_back(*lowest);
    } else {
      kept.push_back(*std::min(lowest, highest));
      kept.push_back(*std::max(lowest, highest));
    }
  }
  kept.push_back(points.back());
  return kept;
}

std::vector<Point> trailing_mean(const std::vector<Point>& points, std::size_t window) {
  std::vector<Point> smoothed;
  smoothed.reserve(points.size());
  double sum = 0;
  std::size_t finite = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (std::isfinite(points[i].y)) sum += points[i].y, ++finite;
    if (i >= window && std::isfinite(points[i - window].y)) sum -= points[i - window].y, --finite;
    if (finite > 0) smoothed.push_back({points[i].x, sum / static_cast<double>(finite)});
  }
  return smoothed;
}

std::vector<double> linear_ticks(double lo, double hi, int target_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {};
  if (lo == hi) return {lo};
  const double step = nice_step((hi - lo) / std::max(1, target_count));
  std::vector<double> ticks;
  const double tolerance = step * 1e-9;
  for (double k = std::ceil((lo - tolerance) / step); k * step <= hi + tolerance; ++k) {
    const double tick = k * step;
    ticks.push_back(std::fabs(tick) < tolerance ? 0.0 : tick);
  }
  return ticks;
}

std::vector<double> log_ticks(double lo, double hi) {
  if (!(lo > 0) || !std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {};
  const double tolerance = 1e-9;
  const int first = static_cast<int>(std::ceil(std::log10(lo) - tolerance));
  const int last = static_cast<int>(std::floor(std::log10(hi) + tolerance));
  std::vector<double> ticks;
  const int decades = last - first + 1;
  if (decades >= 3) {
    const int every = (decades + 7) / 8;
    for (int k = first; k <= last; k += every) ticks.push_back(std::pow(10.0, k));
    return ticks;
  }
  for (int k = first - 1; k <= last; ++k) {
    for (double multiple : {1.0, 2.0, 5.0}) {
      const double tick = multiple * std::pow(10.0, k);
      if (tick >= lo * (1 - tolerance) && tick <= hi * (1 + tolerance)) ticks.push_back(tick);
    }
  }
  if (ticks.size() >= 2) return ticks;
  return linear_ticks(lo, hi, 4);
}

void Extent::add(double value) {
  if (!std::isfinite(value) || (m_kind == AxisKind::log && value <= 0)) return;
  m_lo = m_count == 0 ? value : std::min(m_lo, value);
  m_hi = m_count == 0 ? value : std::max(m_hi, value);
  ++m_count;
}

Axis Extent::axis(std::string label, double fraction, double fallback_lo, double fallback_hi) const {
  Axis axis{m_kind, fallback_lo, fallback_hi, std::move(label), false};
  if (empty()) return axis;
  if (m_kind == AxisKind::log) {
    const double log_lo = std::log10(m_lo), log_hi = std::log10(m_hi);
    const double pad = log_hi > log_lo ? fraction * (log_hi - log_lo) : 0.3;
    axis.lo = std::pow(10.0, log_lo - pad);
    axis.hi = std::pow(10.0, log_hi + pad);
  } else {
    const double pad = m_hi > m_lo ? fraction * (m_hi - m_lo) : std::max(std::fabs(m_lo) * 0.1, 1e-9);
    axis.lo = m_lo - pad;
    axis.hi = m_hi + pad;
  }
  return axis;
}

Scale::Scale(const Axis& axis, double px_lo, double px_hi)
    : m_kind(axis.kind), m_lo(0), m_hi(1), m_px_lo(px_lo), m_px_hi(px_hi) {
  m_lo = transform(axis.lo);
  m_hi = transform(axis.hi);
  if (!(m_hi > m_lo)) m_hi = m_lo + 1;  // a degenerate range still maps, to its lower half
}

double Scale::transform(double value) const { return m_kind == AxisKind::log ? std::log10(value) : value; }

bool Scale::representable(double value) const {
  return std::isfinite(value) && (m_kind == AxisKind::linear || value > 0);
}

double Scale::px(double value) const {
  if (!representable(value)) return m_px_lo;
  const double position = (transform(value) - m_lo) / (m_hi - m_lo);
  // Far-off values are held a little outside the plot so that clipping, not overflow, hides them.
  return m_px_lo + std::clamp(position, -1.0, 2.0) * (m_px_hi - m_px_lo);
}

namespace {

constexpr double left_margin = 72, right_margin = 18, top_margin = 22, bottom_margin = 48;

std::string stroke(const LineStyle& style) {
  std::string attributes = " fill=\"none\" stroke=\"" + style.color + "\" stroke-width=\"" + printf_text("%g", style.width) + "\"";
  if (style.opacity < 1) attributes += " stroke-opacity=\"" + printf_text("%g", style.opacity) + "\"";
  if (!style.dash.empty()) attributes += " stroke-dasharray=\"" + style.dash + "\"";
  return attributes;
}

std::string title_element(const std::string& tooltip) {
  return tooltip.empty() ? "" : "<title>" + escape_html(tooltip) + "</title>";
}

std::string marker_shape(double x, double y, Marker marker, const std::string& color, const std::string& tooltip) {
  const std::string title = title_element(tooltip);
  switch (marker) {
    case Marker::circle:
      return "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"4\" fill=\"" + color +
             "\" stroke=\"#fff\" stroke-width=\"1\">" + title + "</circle>\n";
    case Marker::cross:
      return "<path d=\"M" + px(x - 4.5) + " " + px(y - 4.5) + "L" + px(x + 4.5) + " " + px(y + 4.5) + "M" + px(x - 4.5) +
             " " + px(y + 4.5) + "L" + px(x + 4.5) + " " + px(y - 4.5) + "\" stroke=\"" + color +
             "\" stroke-width=\"2.2\" fill=\"none\">" + title + "</path>\n";
    case Marker::triangle:
      return "<path d=\"M" + px(x) + " " + px(y - 5.5) + "L" + px(x + 5.5) + " " + px(y + 4.5) + "L" + px(x - 5.5) + " " +
             px(y + 4.5) + "Z\" fill=\"" + color + "\" stroke=\"#fff\" stroke-width=\"1\">" + title + "</path>\n";
  }
  return "";
}

}  // namespace

SvgPlot::SvgPlot(std::string id, int width, int height, Axis x, Axis y)
    : m_id(std::move(id)),
      m_width(width),
      m_height(height),
      m_x(std::move(x)),
      m_y(std::move(y)),
      m_left(left_margin),
      m_right(width - right_margin),
      m_top(top_margin),
      m_bottom(height - bottom_margin),
      m_x_scale(m_x, m_left, m_right),
      m_y_scale(m_y, m_bottom, m_top) {}

void SvgPlot::add_line(const std::vector<Point>& points, const LineStyle& style, std::size_t max_points,
                       const std::string& tooltip) {
  std::vector<Point> drawable;
  drawable.reserve(points.size());
  for (const Point& point : points) {
    if (m_x_scale.representable(point.x) && m_y_scale.representable(point.y)) drawable.push_back(point);
  }
  if (drawable.empty()) return;
  if (drawable.size() == 1) {  // a polyline of one point draws nothing: show the point
    m_clipped += "<circle cx=\"" + px(m_x_scale.px(drawable[0].x)) + "\" cy=\"" + px(m_y_scale.px(drawable[0].y)) +
                 "\" r=\"" + printf_text("%g", std::max(2.0, style.width * 1.5)) + "\" fill=\"" + style.color + "\">" +
                 title_element(tooltip) + "</circle>\n";
    return;
  }
  drawable = decimate(drawable, max_points);
  std::string coordinates;
  coordinates.reserve(drawable.size() * 12);
  for (const Point& point : drawable) {
    coordinates += px(m_x_scale.px(point.x)) + "," + px(m_y_scale.px(point.y)) + " ";
  }
  coordinates.pop_back();
  m_clipped += "<polyline points=\"" + coordinates + "\"" + stroke(style) +
               " stroke-linejoin=\"round\">" + title_element(tooltip) + "</polyline>\n";
}

void SvgPlot::add_band(const std::vector<Point>& lower, const std::vector<Point>& upper, const std::string& color,
                       double opacity) {
  std::string coordinates;
  for (const Point& point : upper) {
    if (m_x_scale.representable(point.x) && m_y_scale.representable(point.y)) {
      coordinates += px(m_x_scale.px(point.x)) + "," + px(m_y_scale.px(point.y)) + " ";
    }
  }
  for (auto point = lower.rbegin(); point != lower.rend(); ++point) {
    if (m_x_scale.representable(point->x) && m_y_scale.representable(point->y)) {
      coordinates += px(m_x_scale.px(point->x)) + "," + px(m_y_scale.px(point->y)) + " ";
    }
  }
  if (coordinates.empty()) return;
  coordinates.pop_back();
  m_clipped += "<polygon points=\"" + coordinates + "\" fill=\"" + color + "\" fill-opacity=\"" + printf_text("%g", opacity) +
               "\" stroke=\"none\"/>\n";
}

void SvgPlot::add_marker(Point at, Marker marker, const std::string& color, const std::string& tooltip) {
  if (!m_x_scale.representable(at.x) || !m_y_scale.representable(at.y)) return;
  m_clipped += marker_shape(m_x_scale.px(at.x), m_y_scale.px(at.y), marker, color, tooltip);
}

void SvgPlot::add_top_marker(double x, Marker marker, const std::string& color, const std::string& tooltip) {
  if (!m_x_scale.representable(x)) return;
  m_clipped += marker_shape(m_x_scale.px(x), m_top + 8, marker, color, tooltip);
}

void SvgPlot::add_error_bar(double x, double y_lo, double y_hi, const std::string& color) {
  if (!m_x_scale.representable(x) || !m_y_scale.representable(y_lo) || !m_y_scale.representable(y_hi)) return;
  const double center = m_x_scale.px(x), top = m_y_scale.px(y_hi), bottom = m_y_scale.px(y_lo);
  m_clipped += "<path d=\"M" + px(center) + " " + px(bottom) + "V" + px(top) + "M" + px(center - 3) + " " + px(top) + "h6M" +
               px(center - 3) + " " + px(bottom) + "h6\" stroke=\"" + color + "\" stroke-width=\"1.2\" fill=\"none\"/>\n";
}

void SvgPlot::add_vertical_line(double x, const LineStyle& style, const std::string& label) {
  if (!m_x_scale.representable(x)) return;
  const double at = m_x_scale.px(x);
  if (at < m_left - 0.5 || at > m_right + 0.5) return;
  m_clipped += "<line x1=\"" + px(at) + "\" x2=\"" + px(at) + "\" y1=\"" + px(m_top) + "\" y2=\"" + px(m_bottom) + "\"" +
               stroke(style) + "/>\n";
  if (!label.empty()) {
    m_overlay += "<text x=\"" + px(at + 3) + "\" y=\"" + px(m_top - 6) + "\" class=\"mark\" fill=\"" + style.color + "\">" +
                 escape_html(label) + "</text>\n";
  }
}

void SvgPlot::add_x_span(double x_lo, double x_hi, const std::string& color, double opacity, const std::string& label) {
  if (!m_x_scale.representable(x_lo) || !m_x_scale.representable(x_hi)) return;
  const double from = std::max(m_left, m_x_scale.px(x_lo)), to = std::min(m_right, m_x_scale.px(x_hi));
  if (to <= from) return;
  m_clipped += "<rect x=\"" + px(from) + "\" y=\"" + px(m_top) + "\" width=\"" + px(to - from) + "\" height=\"" +
               px(m_bottom - m_top) + "\" fill=\"" + color + "\" fill-opacity=\"" + printf_text("%g", opacity) + "\"/>\n";
  if (!label.empty() && to - from > 60) {
    m_overlay += "<text x=\"" + px((from + to) / 2) + "\" y=\"" + px(m_top + 20) +
                 "\" class=\"note\" text-anchor=\"middle\">" + escape_html(label) + "</text>\n";
  }
}

void SvgPlot::add_note(const std::string& text) {
  m_overlay += "<text x=\"" + px((m_left + m_right) / 2) + "\" y=\"" + px((m_top + m_bottom) / 2) +
               "\" class=\"note\" text-anchor=\"middle\">" + escape_html(text) + "</text>\n";
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks, bool counts) {
  std::vector<std::string> labels;
  for (int significant = 3; significant <= 10; ++significant) {
    labels.clear();
    for (double tick : ticks) labels.push_back(counts ? format_count(tick) : format_number(tick, significant));
    if (counts || std::adjacent_find(labels.begin(), labels.end()) == labels.end()) break;
  }
  return labels;
}

std::string SvgPlot::axes() const {
  std::string grid, labels;
  const auto x_ticks = m_x.kind == AxisKind::log ? log_ticks(m_x.lo, m_x.hi) : linear_ticks(m_x.lo, m_x.hi, 8);
  const std::vector<std::string> x_labels = tick_labels(x_ticks, m_x.counts);
  for (std::size_t i = 0; i < x_ticks.size(); ++i) {
    const double at = m_x_scale.px(x_ticks[i]);
    grid += "M" + px(at) + " " + px(m_top) + "V" + px(m_bottom);
    labels += "<text x=\"" + px(at) + "\" y=\"" + px(m_bottom + 16) + "\" text-anchor=\"middle\">" + escape_html(x_labels[i]) +
              "</text>\n";
  }
  const auto y_ticks = m_y.kind == AxisKind::log ? log_ticks(m_y.lo, m_y.hi) : linear_ticks(m_y.lo, m_y.hi, 6);
  const std::vector<std::string> y_labels = tick_labels(y_ticks, m_y.counts);
  for (std::size_t i = 0; i < y_ticks.size(); ++i) {
    const double at = m_y_scale.px(y_ticks[i]);
    grid += "M" + px(m_left) + " " + px(at) + "H" + px(m_right);
    labels += "<text x=\"" + px(m_left - 6) + "\" y=\"" + px(at + 4) + "\" text-anchor=\"end\">" + escape_html(y_labels[i]) +
              "</text>\n";
  }
  std::string svg = "<path d=\"" + grid + "\" class=\"grid\"/>\n";
  svg += "<rect x=\"" + px(m_left) + "\" y=\"" + px(m_top) + "\" width=\"" + px(m_right - m_left) + "\" height=\"" +
         px(m_bottom - m_top) + "\" class=\"frame\"/>\n";
  svg += "<g class=\"ticks\">\n" + labels + "</g>\n";
  svg += "<text x=\"" + px((m_left + m_right) / 2) + "\" y=\"" + px(m_height - 8.0) +
         "\" class=\"axis-label\" text-anchor=\"middle\">" + escape_html(m_x.label) + "</text>\n";
  svg += "<text transform=\"translate(16 " + px((m_top + m_bottom) / 2) +
         ") rotate(-90)\" class=\"axis-label\" text-anchor=\"middle\">" + escape_html(m_y.label) + "</text>\n";
  return svg;
}

std::string SvgPlot::render(const std::string& aria_label) const {
  const std::string clip_id = m_id + "-clip";
  std::string svg = "<svg id=\"" + escape_html(m_id) + "\" width=\"" + std::to_string(m_width) + "\" height=\"" +
                    std::to_string(m_height) + "\" viewBox=\"0 0 " + std::to_string(m_width) + " " +
                    std::to_string(m_height) + "\" role=\"img\" aria-label=\"" + escape_html(aria_label) + "\">\n";
  svg += "<defs><clipPath id=\"" + escape_html(clip_id) + "\"><rect x=\"" + px(m_left) + "\" y=\"" + px(m_top) +
         "\" width=\"" + px(m_right - m_left) + "\" height=\"" + px(m_bottom - m_top) + "\"/></clipPath></defs>\n";
  svg += axes();
  svg += "<g clip-path=\"url(#" + escape_html(clip_id) + ")\">\n" + m_clipped + "</g>\n";
  svg += m_overlay;
  svg += "</svg>\n";
  return svg;
}

}  // namespace autolrs::report
