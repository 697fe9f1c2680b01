#include "search/loss_series.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace autolrs::search {

std::vector<LossPoint> thin_series(const std::vector<LossPoint>& series, std::size_t max_points, std::size_t edge_points) {
  const std::size_t count = series.size();
  if (count <= max_points) return series;
  // The middle's budget leaves one place for its first non-finite point, which says the launch broke.
  const std::size_t middle = count - 2 * edge_points;
  const std::size_t budget = max_points - 2 * edge_points - 1;
  const std::size_t stride = (middle + budget - 1) / budget;
  const auto first_non_finite = std::find_if(series.begin() + static_cast<std::ptrdiff_t>(edge_points),
                                             series.end() - static_cast<std::ptrdiff_t>(edge_points),
                                             [](const LossPoint& point) { return !std::isfinite(point.loss); });
  const std::size_t non_finite_index = static_cast<std::size_t>(first_non_finite - series.begin());
  std::vector<LossPoint> kept;
  kept.reserve(max_points);
  for (std::size_t i = 0; i < count; ++i) {
    const bool edge = i < edge_points || i >= count - edge_points;
    if (edge || (i - edge_points) % stride == 0 || i == non_finite_index) kept.push_back(series[i]);
  }
  return kept;
}

std::optional<double> last_finite_loss(const std::vector<LossPoint>& series) {
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    if (std::isfinite(it->loss)) return it->loss;
  }
  return std::nullopt;
}

namespace {

/// The mean of the first `count` (at most) finite losses in [first, last); nullopt when none.
template <typename Iterator>
std::optional<double> mean_of_finite(Iterator first, Iterator last, std::size_t count) {
  double sum = 0;
  std::size_t used = 0;
  for (auto it = first; it != last && used < count; ++it) {
    if (!std::isfinite(it->loss)) continue;
    sum += it->loss;
    ++used;
  }
  if (used == 0) return std::nullopt;
  return sum / static_cast<double>(used);
}

}  // namespace

std::optional<double> final_loss_level(const std::vector<LossPoint>& series, std::size_t count) {
  return mean_of_finite(series.rbegin(), series.rend(), count);
}

std::optional<double> trend_level_at_end(const std::vector<LossPoint>& series, std::size_t count) {
  std::vector<LossPoint> points;
  for (auto point = series.rbegin(); point != series.rend() && points.size() < count; ++point) {
    if (std::isfinite(point->loss)) points.push_back(*point);
  }
  if (points.size() < 2) return std::nullopt;
  double mean_step = 0, mean_loss = 0;
  for (const LossPoint& point : points) {
    mean_step += point.step;
    mean_loss += point.loss;
  }
  mean_step /= static_cast<double>(points.size());
  mean_loss /= static_cast<double>(points.size());
  double covariance = 0, variance = 0;
  for (const LossPoint& point : points) {
    covariance += (point.step - mean_step) * (point.loss - mean_loss);
    variance += (point.step - mean_step) * (point.step - mean_step);
  }
  if (!(variance > 0)) return std::nullopt;
  return mean_loss + covariance / variance * (points.front().step - mean_step);
}

std::optional<double> initial_loss_level(const std::vector<LossPoint>& series, std::size_t count) {
  return mean_of_finite(series.begin(), series.end(), count);
}

std::vector<LossPoint> place_on_launch_axis(const std::vector<RawLoss>& losses, long launch_steps, bool ran_to_end) {
  std::vector<LossPoint> placed;
  placed.reserve(losses.size());
  const bool all_numbered = !losses.empty() && std::all_of(losses.begin(), losses.end(), [](const RawLoss& raw) {
    return raw.trainer_step.has_value() && std::isfinite(*raw.trainer_step);
  });
  if (!all_numbered) {
    const double spacing =
        ran_to_end ? static_cast<double>(launch_steps) / static_cast<double>(std::max<size_t>(1, losses.size())) : 1.0;
    for (size_t i = 0; i < losses.size(); ++i) placed.push_back({spacing * static_cast<double>(i + 1), losses[i].loss});
    return placed;
  }
  double spacing = std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < losses.size(); ++i) {
    const double gap = *losses[i].trainer_step - *losses[i - 1].trainer_step;
    if (gap > 0) spacing = std::min(spacing, gap);
  }
  if (!std::isfinite(spacing)) spacing = static_cast<double>(launch_steps);  // one point, or no forward gaps
  const double origin = *losses.front().trainer_step - spacing;
  double last_step = 0;
  for (const RawLoss& raw : losses) {
    const double step = *raw.trainer_step - origin;
    if (step <= last_step) continue;
    placed.push_back({step, raw.loss});
    last_step = step;
  }
  return placed;
}

bool DivergenceMonitor::diverged_after(double loss) {
  if (m_diverged) return true;
  if (!std::isfinite(loss)) return m_diverged = true;
  if (!m_reference) {
    m_reference = loss;
    return false;
  }
  m_losses_above = *m_reference > 0 && loss > m_factor * *m_reference ? m_losses_above + 1 : 0;
  m_diverged = m_losses_above >= losses_in_a_row;
  return m_diverged;
}

}  // namespace autolrs::search
