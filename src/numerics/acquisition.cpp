#include "numerics/acquisition.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "numerics/minimize.hpp"

namespace autolrs::numerics {

double acquisition_value(Acquisition acquisition, double kappa, double mean, double variance, double best_value) {
  const double sigma = std::sqrt(std::max(variance, 0.0));
  if (acquisition == Acquisition::lower_confidence_bound) return -(mean - kappa * sigma);
  const double improvement = best_value - mean;
  if (sigma <= 0) return std::max(improvement, 0.0);
  const double z = improvement / sigma;
  const double cdf = 0.5 * std::erfc(-z / std::numbers::sqrt2);
  const double pdf = std::exp(-0.5 * z * z) / std::sqrt(2 * std::numbers::pi);
  return improvement * cdf + sigma * pdf;
}

std::optional<double> maximize_acquisition(const GaussianProcess& gp, const BayesOptConfig& config, double best_value,
                                           const std::vector<double>& excluded) {
  const auto allowed = [&](double x) {
    return std::none_of(excluded.begin(), excluded.end(),
                        [&](double taken) { return std::abs(x - taken) < config.min_separation; });
  };
  const auto value_at = [&](double x) {
    const GaussianProcess::Prediction prediction = gp.predict(x);
    return acquisition_value(config.acquisition, config.kappa, prediction.mean, prediction.variance, best_value);
  };
  const int points = std::max(config.grid_points, 2);
  const double spacing = 1.0 / (points - 1);
  std::optional<double> best_x;
  double best_acquisition = -std::numeric_limits<double>::infinity();
  for (int i = 0; i < points; ++i) {
    const double x = i * spacing;
    if (!allowed(x)) continue;
    const double value = value_at(x);
    if (value > best_acquisition) best_acquisition = value, best_x = x;
  }
  if (!best_x) return std::nullopt;
  const double lo = std::max(*best_x - spacing, 0.0), hi = std::min(*best_x + spacing, 1.0);
  const double refined = brent_minimize([&](double x) { return -value_at(x); }, lo, hi, 1e-8);
  if (allowed(refined) && value_at(refined) > best_acquisition) return refined;
  return best_x;
}

}  // namespace autolrs::numerics
