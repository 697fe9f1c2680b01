#include "report/html_page_parts.hpp"

#include <algorithm>
#include <cmath>

namespace autolrs::report {

namespace {

constexpr const char* style_sheet = R"(
:root{color-scheme:light}
body{margin:0;background:#f6f7f9;color:#1d2329;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif}
main{max-width:1160px;margin:0 auto;padding:20px 20px 40px}
h1{font-size:24px;margin:0 0 2px}
h2{font-size:18px;margin:28px 0 10px}
.subtitle{color:#5b6570;margin:0 0 16px}
code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace;background:#eceff3;padding:1px 4px;border-radius:3px;word-break:break-all}
.totals{display:flex;flex-wrap:wrap;gap:10px}
.card{flex:1 1 0;background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:8px 12px;min-width:100px}
.card .label{color:#5b6570;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:20px;font-weight:600}
.card small{font-size:13px;font-weight:400;color:#5b6570}
.status{display:inline-block;padding:0 10px;border-radius:12px;font-size:16px;color:#fff}
.status.completed{background:#1b7f4b}.status.failed{background:#c0392b}.status.running{background:#2c6fbb}.status.interrupted{background:#b7791f}
.banner{margin:14px 0 0;padding:10px 14px;border-radius:8px;border:1px solid}
.banner.failure{background:#fdecea;border-color:#f5c2bd;color:#8a1c12}
.banner.info{background:#eaf2fb;border-color:#c3d8ef;color:#1f4e80}
figure{margin:0;background:#fff;border:1px solid #dde2e8;border-radius:8px;padding:10px 10px 8px}
figcaption{margin:0 0 4px 6px}
.plot-title{font-weight:600;font-size:15px}
.plot-note{color:#5b6570;font-size:12.5px;margin-left:8px}
svg{display:block;max-width:100%;height:auto;font-family:inherit}
svg text{font-size:12px;fill:#3b444d}
svg .axis-label{font-size:13px;fill:#1d2329}
svg .mark{font-size:11px;font-weight:600}
svg .note{font-size:14px;fill:#7a838c}
svg .grid{stroke:#e6e9ed;stroke-width:1;fill:none}
svg .frame{fill:none;stroke:#aab2bb;stroke-width:1}
.remarks{margin:6px 6px 0;padding-left:18px;font-size:12.5px;color:#3b444d}
.legend{display:flex;flex-wrap:wrap;gap:4px 18px;margin:2px 6px 0;font-size:12.5px;color:#3b444d}
.key{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:22px;height:0}
.swatch.block{height:10px;border-radius:2px}
.glyph{font-size:13px;line-height:1}
.stages{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
table{border-collapse:collapse;background:#fff;border:1px solid #dde2e8;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:5px 12px;text-align:right;border-bottom:1px solid #edf0f3}
th{background:#f0f2f5;font-weight:600;color:#3b444d}
td:first-child,th:first-child,td:last-child,th:last-child{text-align:left}
tr.failed td{background:#fdecea}tr.probing td,tr.training td{background:#eaf2fb}
td.empty{text-align:center;color:#7a838c}
p.explain{color:#5b6570;margin:0 0 10px;max-width:900px}
)";

}  // namespace

std::string number_or_dash(const std::optional<double>& value) {
  return value && std::isfinite(*value) ? format_number(*value, 4) : "–";
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "–";
  if (seconds < 60) return printf_text("%.1f s", seconds);
  const long whole = std::lround(seconds);
  if (whole < 3600) return printf_text("%ld min %02ld s", whole / 60, whole % 60);
  return printf_text("%ld h %02ld min", whole / 3600, whole % 3600 / 60);
}

std::string steps_text(long steps) {
  std::string digits = std::to_string(steps);
  for (int at = static_cast<int>(digits.size()) - 3; at > (steps < 0 ? 1 : 0); at -= 3) digits.insert(at, "\u202f");
  return digits;
}

void Legend::line(const std::string& label, const LineStyle& style) {
  html += "<span class=\"key\"><span class=\"swatch\" style=\"border-top:" + printf_text("%g", std::max(2.0, style.width)) +
          "px " + (style.dash.empty() ? "solid " : "dashed ") + style.color +
          (style.opacity < 1 ? ";opacity:" + printf_text("%g", std::max(0.45, style.opacity)) : "") + "\"></span>" +
          escape_html(label) + "</span>";
}

void Legend::band(const std::string& label, const std::string& colour) {
  html += "<span class=\"key\"><span class=\"swatch block\" style=\"background:" + colour + "\"></span>" +
          escape_html(label) + "</span>";
}

void Legend::marker(const std::string& label, Marker marker, const std::string& colour) {
  const char* glyph = marker == Marker::circle ? "●" : marker == Marker::cross ? "✕" : "▲";
  html += "<span class=\"key\"><span class=\"glyph\" style=\"color:" + colour + "\">" + glyph + "</span>" +
          escape_html(label) + "</span>";
}

std::string figure(const std::string& title, const std::string& svg, const Legend& legend, const std::string& note,
                   const std::vector<std::string>& remarks) {
  std::string html = "<figure>\n<figcaption><span class=\"plot-title\">" + escape_html(title) + "</span>";
  if (!note.empty()) html += " <span class=\"plot-note\">" + escape_html(note) + "</span>";
  html += "</figcaption>\n" + svg + "<div class=\"legend\">" + legend.html + "</div>\n";
  if (!remarks.empty()) {
    html += "<ul class=\"remarks\">\n";
    for (const std::string& remark : remarks) html += "<li>" + escape_html(remark) + "</li>\n";
    html += "</ul>\n";
  }
  html += "</figure>\n";
  return html;
}

std::string html_page(const std::string& title, const std::string& extra_css, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<title>" + escape_html(title) + "</title>\n<style>" + style_sheet + extra_css + "</style>\n</head>\n<body>\n<main>\n" +
         body + "</main>\n</body>\n</html>\n";
}

bool is_trained_main_launch(const orchestrator::LaunchReport& launch) {
  return launch.request.kind != search::LaunchKind::probe && launch.outcome.status == search::OutcomeStatus::succeeded;
}

std::vector<Point> series_at(double origin, const std::vector<search::LossPoint>& series) {
  std::vector<Point> points;
  points.reserve(series.size());
  for (const search::LossPoint& point : series) points.push_back({origin + point.step, point.loss});
  return points;
}

std::vector<Point> trained_schedule(const search::SearchRecord& progress) {
  std::vector<Point> schedule;
  if (progress.warmup && progress.warmup->completed) {
    schedule.push_back({0, progress.warmup->lr});
    schedule.push_back({static_cast<double>(progress.warmup->steps), progress.warmup->lr});
  }
  for (const search::StageRecord& stage : progress.stages) {
    if (!stage.lr || !stage.completed) continue;
    const double start = static_cast<double>(stage.start_step);
    schedule.push_back({start, *stage.lr});
    schedule.push_back({start + static_cast<double>(stage.steps), stage.lr_end.value_or(*stage.lr)});
  }
  return schedule;
}

std::size_t smoothing_window(std::size_t points) {
  const std::size_t window = points / 200;
  return window >= 3 ? window : 0;
}

Axis loss_axis(const Extent& linear_range, const Extent& log_range) {
  const bool log_axis = !linear_range.empty() && linear_range.lo() > 0 && linear_range.hi() / linear_range.lo() >= 10;
  return log_axis ? log_range.axis("loss (log scale)", 0.04, 0.1, 1) : linear_range.axis("loss", 0.05, 0, 1);
}

}  // namespace autolrs::report
