#include "numerics/forecaster.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include <Eigen/Dense>

#include "numerics/minimize.hpp"

namespace autolrs::numerics {

const char* to_string(ForecastStatus status) {
  switch (status) {
    case ForecastStatus::ok: return "ok";
    case ForecastStatus::diverged: return "diverged";
    case ForecastStatus::insufficient: return "insufficient";
  }
  return "insufficient";
}

namespace {

using Eigen::ArrayXd;

// Rates are searched on normalized time u = (t - t_first) / span in [0, 1]. r = 0.3 (a quarter of the
// decay visible in the window) is the slowest: slower rates are indistinguishable from a straight
// line in noisy windows, and extrapolating them 10x predicts a collapse of the loss (unbounded
// optimism), while a too-fast rate errs towards the current level. r = 50 drops within 2% of the window.
constexpr double k_log_rate_min = -1.2039728043259361;  // log(0.3)
constexpr double k_log_rate_max = 3.912023005428146;   // log(50)
constexpr int k_rate_grid = 24;
// Above this many points the fit runs on equal-count bins summarized by their median (robust to
// spikes inside a bin), keeping a forecast of 1e6 points to a few milliseconds.
constexpr Eigen::Index k_max_fit_points = 2048;
constexpr Eigen::Index k_bins = 1024;
constexpr int k_robust_iterations = 5;
// Tukey bisquare and Huber tuning constants for 95% Gaussian efficiency (Holland & Welsch 1977).
constexpr double k_bisquare_c = 4.685;
constexpr double k_huber_k = 1.345;
constexpr double k_mad_to_sigma = 1.482602218505602;  // 1 / Phi^-1(3/4)

double median_of(std::vector<double> values) {
  const auto middle = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), middle, values.end());
  double upper = *middle;
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(values.begin(), middle));
}

/// MAD-based sigma of residuals over the points with positive weight.
double robust_scale(const ArrayXd& residuals, const ArrayXd& weights) {
  std::vector<double> used;
  used.reserve(static_cast<std::size_t>(residuals.size()));
  for (Eigen::Index i = 0; i < residuals.size(); ++i) {
    if (weights[i] > 0) used.push_back(residuals[i]);
  }
  if (used.empty()) return 0;
  const double center = median_of(used);
  for (double& value : used) value = std::abs(value - center);
  return k_mad_to_sigma * median_of(used);
}

/// Points the model is fitted to: normalized times and losses.
struct FitData {
  ArrayXd u, y;
};

/// a, c for one rate by weighted linear least squares (variable projection), and the weighted SSE.
struct ProfileFit {
  double a = 0, c = 0, sse = 0;
};

class ProfileObjective {
 public:
  ProfileObjective(const FitData& data, bool nonnegative_asymptote)
      : m_data(data), m_nonnegative(nonnegative_asymptote), m_basis(data.u.size()) {
    set_weights(ArrayXd::Ones(data.u.size()));
    const Eigen::Index n = data.u.size();
    m_spacing = n > 1 ? (data.u[n - 1] - data.u[0]) / static_cast<double>(n - 1) : 0;
    m_uniform = n > 1;
    for (Eigen::Index i = 0; i < n && m_uniform; ++i) {
      m_uniform = std::abs(data.u[i] - (data.u[0] + static_cast<double>(i) * m_spacing)) <= 1e-12;
    }
  }

  void set_weights(const ArrayXd& weights) {
    m_weights = weights;
    m_weight_sum = weights.sum();
    m_weighted_y_sum = (weights * m_data.y).sum();
  }
  const ArrayXd& weights() const { return m_weights; }

  /// exp(-rate u_i); on evenly spaced points by the recurrence e_i = e_{i-1} exp(-rate du), one
  /// multiplication a point (relative error below n ulp), else by exp.
  const ArrayXd& basis(double rate) const {
    if (!m_uniform) {
      m_basis = (-rate * m_data.u).exp();
      return m_basis;
    }
    // Four interleaved chains e_i = e_{i-4} exp(-4 rate du), so that the multiplications pipeline.
    const double ratio = std::exp(-rate * m_spacing), ratio4 = ratio * ratio * ratio * ratio;
    const Eigen::Index n = m_basis.size();
    double value = std::exp(-rate * m_data.u[0]);
    for (Eigen::Index i = 0; i < std::min<Eigen::Index>(n, 4); ++i, value *= ratio) m_basis[i] = value;
    for (Eigen::Index i = 4; i < n; ++i) m_basis[i] = m_basis[i - 4] * ratio4;
    return m_basis;
  }

  ProfileFit fit(double rate) const {
    const ArrayXd& e = basis(rate);
    const ArrayXd& w = m_weights;
    const ArrayXd& y = m_data.y;
    const ArrayXd we = w * e;
    const double s0 = m_weight_sum, s1 = we.sum(), s2 = (we * e).sum(), ty = m_weighted_y_sum, tey = (we * y).sum();
    ProfileFit result;
    const double det = s0 * s2 - s1 * s1;
    if (s0 <= 0) return result;
    if (det > 1e-12 * s0 * s2) {
      result.a = (s0 * tey - s1 * ty) / det;
      result.c = (s2 * ty - s1 * tey) / det;
    } else {  // the exponential is indistinguishable from a constant here
      result.c = ty / s0;
    }
    if (m_nonnegative && result.c < 0) {
      result.c = 0;
      result.a = s2 > 0 ? tey / s2 : 0;
    }
    result.sse = (w * (y - result.a * e - result.c).square()).sum();
    return result;
  }

  double sse(double log_rate) const { return fit(std::exp(log_rate)).sse; }

 private:
  const FitData& m_data;
  bool m_nonnegative;
  ArrayXd m_weights;
  double m_weight_sum = 0, m_weighted_y_sum = 0;
  mutable ArrayXd m_basis;  // scratch for basis()
  double m_spacing = 0;
  bool m_uniform = false;
};

/// Global search over the log-rate grid, then Brent between the best point's neighbours. With a
/// `previous` estimate (a reweighting round, which usually moves the optimum little), Brent within
/// one grid spacing of it first, and the global search only when that ends on the window's edge.
double search_log_rate(const ProfileObjective& objective, std::optional<double> previous = std::nullopt) {
  const double spacing = (k_log_rate_max - k_log_rate_min) / (k_rate_grid - 1);
  const auto sse = [&](double log_rate) { return objective.sse(log_rate); };
  if (previous) {
    const double lo = std::max(*previous - spacing, k_log_rate_min), hi = std::min(*previous + spacing, k_log_rate_max);
    const double local = brent_minimize(sse, lo, hi, 1e-8);
    const double margin = 1e-3 * spacing;
    if ((local > lo + margin || lo == k_log_rate_min) && (local < hi - margin || hi == k_log_rate_max)) return local;
  }
  int best = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int i = 0; i < k_rate_grid; ++i) {
    const double value = sse(k_log_rate_min + i * spacing);
    if (value < best_sse) best_sse = value, best = i;
  }
  const double lo = k_log_rate_min + std::max(best - 1, 0) * spacing;
  const double hi = k_log_rate_min + std::min(best + 1, k_rate_grid - 1) * spacing;
  return brent_minimize(sse, lo, hi, 1e-8);
}

/// Posterior mean and variance of the prediction a exp(-r h) + c over the decay rate: a flat prior
/// on log r over the search range and the Gaussian profile likelihood exp(-(SSE(r) - SSE_min) / 2 s^2),
/// on a grid plus the best rate. A slow, noisy decay leaves the rate poorly determined; averaging
/// over it, rather than betting on the least-squares rate, keeps 10x extrapolations from the
/// extremes (Bayesian model averaging, Hoeting et al. 1999).
struct RatePosterior {
  double mean = 0, variance = 0;
};

RatePosterior rate_posterior(const ProfileObjective& objective, double best_log_rate, double best_sse, double s_sq,
                             double h) {
  constexpr int nodes = 48;
  std::vector<double> log_weights, predictions;
  const auto add = [&](double log_rate) {
    const double rate = std::exp(log_rate);
    const ProfileFit fit = objective.fit(rate);
    log_weights.push_back(-(fit.sse - best_sse) / (2 * s_sq));
    predictions.push_back(fit.a * std::exp(-rate * h) + fit.c);
  };
  add(best_log_rate);
  for (int i = 0; i < nodes; ++i) add(k_log_rate_min + i * (k_log_rate_max - k_log_rate_min) / (nodes - 1));
  const double top = *std::max_element(log_weights.begin(), log_weights.end());
  double total = 0, sum = 0, sum_sq = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    if (!std::isfinite(predictions[i])) continue;
    const double weight = std::exp(log_weights[i] - top);
    total += weight, sum += weight * predictions[i], sum_sq += weight * predictions[i] * predictions[i];
  }
  RatePosterior posterior;
  posterior.mean = sum / total;
  posterior.variance = std::max(sum_sq / total - posterior.mean * posterior.mean, 0.0);
  return posterior;
}

/// Median-of-bin summary of a long series (equal-count consecutive bins).
FitData summarize(const ArrayXd& u, const ArrayXd& y) {
  if (u.size() <= k_max_fit_points) return {u, y};
  FitData bins{ArrayXd(k_bins), ArrayXd(k_bins)};
  for (Eigen::Index bin = 0; bin < k_bins; ++bin) {
    const Eigen::Index begin = bin * u.size() / k_bins, end = (bin + 1) * u.size() / k_bins;
    bins.u[bin] = u.segment(begin, end - begin).mean();
    bins.y[bin] = median_of(std::vector<double>(y.data() + begin, y.data() + end));
  }
  return bins;
}

/// A forecast without a fit: `prediction` as given, the spread of the finite losses as its uncertainty.
Forecast unfitted(const std::vector<double>& finite_losses, ForecastStatus status, double prediction) {
  Forecast result;
  result.status = status;
  result.prediction = prediction;
  result.c = prediction;
  result.points_used = static_cast<int>(finite_losses.size());
  if (finite_losses.size() >= 2) {
    const ArrayXd values = Eigen::Map<const ArrayXd>(finite_losses.data(), static_cast<Eigen::Index>(finite_losses.size()));
    result.residual_scale = robust_scale(values, ArrayXd::Ones(values.size()));
    result.prediction_std = result.residual_scale;
  }
  return result;
}

double largest(const std::vector<double>& finite_losses) {
  return finite_losses.empty() ? 0 : *std::max_element(finite_losses.begin(), finite_losses.end());
}

/// Robust levels (medians) of the first and last fifth of a series, at least one point each.
struct EndLevels {
  double first = 0, last = 0;
};

EndLevels end_levels(const std::vector<double>& losses) {
  const auto fifth = static_cast<std::ptrdiff_t>(std::max<std::size_t>(1, losses.size() / 5));
  return {median_of(std::vector<double>(losses.begin(), losses.begin() + fifth)),
          median_of(std::vector<double>(losses.end() - fifth, losses.end()))};
}

void check_arguments(const std::vector<double>& steps, const std::vector<double>& losses, double horizon) {
  if (steps.size() != losses.size()) throw std::invalid_argument("forecast_loss: steps and losses differ in length");
  if (!std::isfinite(horizon)) throw std::invalid_argument("forecast_loss: horizon is not finite");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!std::isfinite(steps[i]) || (i > 0 && !(steps[i] > steps[i - 1]))) {
      throw std::invalid_argument("forecast_loss: steps must be finite and strictly increasing");
    }
  }
}

}  // namespace

Forecast forecast_loss(const std::vector<double>& steps, const std::vector<double>& losses, double horizon,
                       SeriesKind kind) {
  check_arguments(steps, losses, horizon);
  std::vector<double> finite_losses;
  finite_losses.reserve(losses.size());
  for (double loss : losses) {
    if (std::isfinite(loss)) finite_losses.push_back(loss);
  }
  if (finite_losses.size() != losses.size()) {
    return unfitted(finite_losses, ForecastStatus::diverged, largest(finite_losses));
  }
  if (losses.size() < 3) {
    return unfitted(finite_losses, ForecastStatus::insufficient, losses.empty() ? 0 : losses.back());
  }
  // A rising series forecasts the level it has risen to: above where it started, so the LR ranks
  // poorly, without betting on a single worst point (which, on real runs, overshoots the later loss).
  const EndLevels levels = end_levels(losses);
  if (levels.last > levels.first + 0.5 * std::abs(levels.first)) {
    return unfitted(finite_losses, ForecastStatus::diverged, levels.last);
  }

  const Eigen::Index n = static_cast<Eigen::Index>(losses.size());
  const double t_first = steps.front(), span = steps.back() - steps.front();
  const ArrayXd u = (Eigen::Map<const ArrayXd>(steps.data(), n) - t_first) / span;
  const ArrayXd y = Eigen::Map<const ArrayXd>(losses.data(), n);
  const FitData data = summarize(u, y);
  const bool nonnegative = y.minCoeff() >= 0;
  ProfileObjective objective(data, nonnegative);

  // Iteratively reweighted least squares: the first pass unweighted, then Huber (validation
  // losses: few smooth points, down-weight) or Tukey bisquare (training losses: reject spikes).
  const bool robust = data.u.size() > 5;
  double log_rate = search_log_rate(objective);
  for (int iteration = 0; robust && iteration < k_robust_iterations; ++iteration) {
    const ProfileFit fit = objective.fit(std::exp(log_rate));
    const ArrayXd residuals = data.y - fit.a * (-std::exp(log_rate) * data.u).exp() - fit.c;
    // Floored at 1e-8 of the loss scale so that rounding residuals of an exact fit are not outliers.
    const double sigma = std::max(robust_scale(residuals, ArrayXd::Ones(residuals.size())),
                                  1e-8 * data.y.abs().maxCoeff() + std::numeric_limits<double>::min());
    const ArrayXd z = residuals.abs() / sigma;
    const ArrayXd weights = kind == SeriesKind::train
                                ? ArrayXd((z < k_bisquare_c).select((1 - (z / k_bisquare_c).square()).square(), 0.0))
                                : ArrayXd((z <= k_huber_k).select(ArrayXd::Ones(z.size()), k_huber_k / z));
    if (iteration > 0 && (weights - objective.weights()).abs().maxCoeff() < 1e-3) break;
    objective.set_weights(weights);
    log_rate = search_log_rate(objective, iteration > 0 ? std::optional<double>(log_rate) : std::nullopt);
  }

  const double rate = std::exp(log_rate);
  const ProfileFit fit = objective.fit(rate);
  const double h = (horizon - t_first) / span;
  const double decay_at_horizon = std::exp(-rate * h);

  Forecast result;
  result.status = ForecastStatus::ok;
  result.prediction = fit.a * decay_at_horizon + fit.c;
  result.b = -rate / span;
  const double a_at_zero = fit.a * std::exp(rate * t_first / span);
  result.a = std::isfinite(a_at_zero) ? a_at_zero : std::copysign(std::numeric_limits<double>::max(), fit.a);
  result.c = fit.c;

  const ArrayXd raw_residuals = y - fit.a * (-rate * u).exp() - fit.c;
  const ArrayXd& weights = objective.weights();
  const ArrayXd used = kind == SeriesKind::train && robust && data.u.size() == n
                           ? ArrayXd((weights > 0).cast<double>())
                           : ArrayXd::Ones(n);
  result.residual_scale = robust_scale(raw_residuals, used);
  result.points_used = static_cast<int>((used > 0).count());

  const Eigen::Index effective = (weights > 0).count();
  if (effective > 3 && fit.sse > 0) {
    const double s_sq = fit.sse / std::max(weights.sum() - 3, 1.0);
    const RatePosterior posterior = rate_posterior(objective, log_rate, fit.sse, s_sq, h);
    result.prediction = posterior.mean;
    // Law of total variance: the spread over rates plus, at the best rate, the linear least-squares
    // variance of a exp(-r h) + c, s^2 g^T (X^T W X)^-1 g with g = (exp(-r h), 1).
    const ArrayXd basis = (-rate * data.u).exp();
    Eigen::Matrix2d information;
    information << (weights * basis.square()).sum(), (weights * basis).sum(), (weights * basis).sum(), weights.sum();
    const Eigen::Vector2d gradient(decay_at_horizon, 1.0);
    const double within = s_sq * gradient.dot(information.completeOrthogonalDecomposition().solve(gradient));
    const double variance = posterior.variance + (std::isfinite(within) ? std::max(within, 0.0) : 0.0);
    result.prediction_std = std::sqrt(variance);
  } else if (effective <= 3) {
    result.prediction_std = std::abs(result.prediction - losses.back());
  }
  if (!std::isfinite(result.prediction) || !std::isfinite(result.b) || !std::isfinite(result.c)) {
    return unfitted(finite_losses, ForecastStatus::diverged, largest(finite_losses));
  }
  return result;
}

}  // namespace autolrs::numerics
