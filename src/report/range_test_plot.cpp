#include "report/range_test_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace autolrs::report {

namespace {

constexpr double width = 640, height = 400, left = 70, right = 20, top = 30, bottom = 50;

std::string format(const char* pattern, auto... values) {
  char text[256];
  std::snprintf(text, sizeof text, pattern, values...);
  return text;
}

}  // namespace

std::string range_test_svg(const search::RangeTestAnalysis& analysis) {
  const std::vector<search::RangeTestRow>& rows = analysis.rows;
  double lr_low = 1e-6, lr_high = 1, loss_low = 0, loss_high = 1;
  if (!rows.empty()) {
    lr_low = rows.front().lr;
    lr_high = std::max(rows.back().lr, lr_low * 10);
  }
  std::vector<double> losses;
  for (const search::RangeTestRow& row : rows) {
    if (row.final_loss) losses.push_back(*row.final_loss);
  }
  if (analysis.start_loss) losses.push_back(*analysis.start_loss);
  if (!losses.empty()) {
    loss_low = *std::min_element(losses.begin(), losses.end());
    loss_high = *std::max_element(losses.begin(), losses.end());
    const double margin = std::max(0.05 * (loss_high - loss_low), 1e-12 + 1e-3 * std::abs(loss_high));
    loss_low -= margin;
    loss_high += margin;
  }
  const double plot_w = width - left - right, plot_h = height - top - bottom;
  const auto x_of = [&](double lr) { return left + plot_w * (std::log10(lr) - std::log10(lr_low)) / (std::log10(lr_high) - std::log10(lr_low)); };
  const auto y_of = [&](double loss) { return top + plot_h * (loss_high - loss) / (loss_high - loss_low); };

  std::string svg = format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">)",
                           width, height, width, height) + "\n";
  svg += format(R"(<rect x="0" y="0" width="%.0f" height="%.0f" fill="white"/>)", width, height) + "\n";
  svg += format(R"(<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="black"/>)", left, top, plot_w, plot_h) + "\n";
  svg += format(R"(<text x="%.0f" y="18" text-anchor="middle">LR range test: final loss by learning rate</text>)", width / 2) + "\n";
  for (int decade = static_cast<int>(std::ceil(std::log10(lr_low) - 1e-9)); decade <= std::floor(std::log10(lr_high) + 1e-9); ++decade) {
    const double x = x_of(std::pow(10.0, decade));
    svg += format(R"(<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/><text x="%.1f" y="%.0f" text-anchor="middle">1e%d</text>)",
                  x, top, x, top + plot_h, x, top + plot_h + 16, decade) + "\n";
  }
  for (int tick = 0; tick <= 4; ++tick) {
    const double loss = loss_low + (loss_high - loss_low) * tick / 4;
    svg += format(R"(<text x="%.0f" y="%.1f" text-anchor="end">%.3g</text>)", left - 6, y_of(loss) + 4, loss) + "\n";
  }
  svg += format(R"(<text x="%.0f" y="%.0f" text-anchor="middle">learning rate (log scale)</text>)", left + plot_w / 2, height - 8) + "\n";
  svg += format(R"svg(<text x="16" y="%.0f" text-anchor="middle" transform="rotate(-90 16 %.0f)">final train loss</text>)svg",
                top + plot_h / 2, top + plot_h / 2) + "\n";
  if (analysis.start_loss) {
    svg += format(R"(<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="gray" stroke-dasharray="2,3"/>)", left,
                  y_of(*analysis.start_loss), left + plot_w, y_of(*analysis.start_loss)) + "\n";
  }
  std::string points;
  for (const search::RangeTestRow& row : rows) {
    if (row.final_loss) {
      points += format("%.1f,%.1f ", x_of(row.lr), y_of(*row.final_loss));
      svg += format(R"(<circle cx="%.1f" cy="%.1f" r="3" fill="steelblue"/>)", x_of(row.lr), y_of(*row.final_loss)) + "\n";
    } else {
      svg += format(R"(<text x="%.1f" y="%.0f" text-anchor="middle" fill="red">&#215;</text>)", x_of(row.lr), top + 14) + "\n";
    }
  }
  if (!points.empty()) svg += R"(<polyline fill="none" stroke="steelblue" stroke-width="2" points=")" + points + "\"/>\n";
  const auto bound = [&](const std::optional<double>& lr, const char* name) {
    if (!lr) return;
    svg += format(R"(<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="darkgreen" stroke-dasharray="6,4"/><text x="%.1f" y="%.0f" fill="darkgreen">%s %.3g</text>)",
                  x_of(*lr), top, x_of(*lr), top + plot_h, x_of(*lr) + 4, top + plot_h - 8, name, *lr) + "\n";
  };
  bound(analysis.lr_min, "lr_min");
  bound(analysis.lr_max, "lr_max");
  return svg + "</svg>\n";
}

}  // namespace autolrs::report
