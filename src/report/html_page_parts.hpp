#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/run_observer.hpp"
#include "report/svg_plot.hpp"

namespace autolrs::report {

/// The Okabe–Ito colours (Okabe and Ito, "Color Universal Design", 2008): distinguishable with the
/// common colour-vision deficiencies. Yellow and black last: they read worst as thin lines.
inline constexpr std::array<const char*, 8> okabe_ito = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                                         "#D55E00", "#56B4E9", "#F0E442", "#000000"};

/// Longest polyline drawn for a main-launch series (train or val loss); longer ones are decimated.
inline constexpr std::size_t max_series_points = 2000;

/// A loss or LR for tables: format_number with 4 digits, "–" when absent or not finite.
std::string number_or_dash(const std::optional<double>& value);
/// "12.3 s", "4 min 05 s", "2 h 03 min"; "–" for a negative or non-finite time.
std::string duration_text(double seconds);
/// A step count with thin spaces between thousands: "12 500".
std::string steps_text(long steps);

/// Legend entries, drawn in HTML under a plot (the SVG holds only the data).
struct Legend {
  std::string html;
  void line(const std::string& label, const LineStyle& style);
  void band(const std::string& label, const std::string& colour);
  void marker(const std::string& label, Marker marker, const std::string& colour);
};

/// A plot as a <figure>: its title and optional note, the <svg>, the legend, then `remarks` as a
/// visible list (escaped), e.g. why launches failed.
std::string figure(const std::string& title, const std::string& svg, const Legend& legend, const std::string& note = "",
                   const std::vector<std::string>& remarks = {});

/// A whole self-contained page: the shared style sheet plus `extra_css` inline, no script; `title`
/// is escaped, `body` is HTML put inside <main>.
std::string html_page(const std::string& title, const std::string& extra_css, const std::string& body);

/// A warmup or stage launch that succeeded: the launches that trained the model.
bool is_trained_main_launch(const orchestrator::LaunchReport& launch);

/// A launch's losses as points at x = `origin` + the step on the launch's own axis.
std::vector<Point> series_at(double origin, const std::vector<search::LossPoint>& series);

/// The LR over model steps of the trained warmup and stages, two points per launch (its first step
/// and the step after its last, at lr and lr_end); empty before one is trained.
std::vector<Point> trained_schedule(const search::SearchRecord& progress);

/// The moving-average window (trailing_mean) that a train series of `points` losses is drawn with,
/// per-step losses being noisy: points / 200, or 0 (drawn as is) when that is below 3.
std::size_t smoothing_window(std::size_t points);

/// The y axis of a loss plot given the losses' extents on a linear and a log axis: log when all
/// are positive and span a factor of 10 or more.
Axis loss_axis(const Extent& linear_range, const Extent& log_range);

}  // namespace autolrs::report
