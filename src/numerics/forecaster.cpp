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

const char* to_string(CurveShape shape) {
  return shape == CurveShape::power_law ? "power_law" : "exponential";
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

/// A search range for the rate of an exponential basis exp(-rate x): bounds of log rate, grid size.
struct RateRange {
  double log_min, log_max;
  int grid;
  double spacing() const { return (log_max - log_min) / (grid - 1); }
};
constexpr RateRange k_exponential_rates{k_log_rate_min, k_log_rate_max, k_rate_grid};

// The power law a (1 + u/s)^-p + c: exponents p in [0.1, 4] (steeper ones are near-exponential
// over a window), offsets s in [0.02, 20] windows, on a grid of 12 (a factor 1.8 apart).
constexpr RateRange k_power_exponents{-2.3025850929940455, 1.3862943611198906, 8};  // log 0.1, log 4
constexpr double k_log_shift_min = -3.912023005428146, k_log_shift_max = 2.995732273553991;  // log 0.02, log 20
constexpr int k_shifts = 12;
// It is fitted to series of at least 12 points (a 4-parameter curve beside a 3-parameter one), on
// at most 128 bin medians: a smooth curve needs no more, and a forecast of 1,000 points stays fast.
constexpr Eigen::Index k_min_power_law_points = 12;
constexpr Eigen::Index k_max_power_law_points = 128;
// Prior log odds against the power law (see forecast_loss), and the weight below which its
// forecast is left out.
constexpr double k_power_law_prior_log_odds_train = 3, k_power_law_prior_log_odds_val = 4;
constexpr double k_min_power_law_weight = 1e-3;

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
      : m_data(data), m_nonnegative(nonnegative_asymptote), m_basis(data.u.size()), m_weighted_basis(data.u.size()) {
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
    ArrayXd& we = m_weighted_basis;
    we = w * e;
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
  mutable ArrayXd m_basis, m_weighted_basis;  // scratch for basis() and fit(), allocated once
  double m_spacing = 0;
  bool m_uniform = false;
};

/// Global search over the log-rate grid, then Brent between the best point's neighbours. With a
/// `previous` estimate (a reweighting round, which usually moves the optimum little), Brent within
/// one grid spacing of it first, and the global search only when that ends on the window's edge.
double search_log_rate(const ProfileObjective& objective, const RateRange& range, double tolerance,
                       std::optional<double> previous = std::nullopt) {
  const double spacing = range.spacing();
  const auto sse = [&](double log_rate) { return objective.sse(log_rate); };
  if (previous) {
    const double lo = std::max(*previous - spacing, range.log_min), hi = std::min(*previous + spacing, range.log_max);
    const double local = brent_minimize(sse, lo, hi, tolerance);
    const double margin = 1e-3 * spacing;
    if ((local > lo + margin || lo == range.log_min) && (local < hi - margin || hi == range.log_max)) return local;
  }
  int best = 0;
  double best_sse = std::numeric_limits<double>::infinity();
  for (int i = 0; i < range.grid; ++i) {
    const double value = sse(range.log_min + i * spacing);
    if (value < best_sse) best_sse = value, best = i;
  }
  const double lo = range.log_min + std::max(best - 1, 0) * spacing;
  const double hi = range.log_min + std::min(best + 1, range.grid - 1) * spacing;
  return brent_minimize(sse, lo, hi, tolerance);
}

/// Tukey bisquare (train: spikes get weight 0) or Huber (val) weights of `residuals`, scaled by their
/// MAD sigma, floored at 1e-8 of `loss_scale` so that rounding residuals of an exact fit are not outliers.
ArrayXd robust_weights(const ArrayXd& residuals, double loss_scale, SeriesKind kind) {
  const double sigma = std::max(robust_scale(residuals, ArrayXd::Ones(residuals.size())),
                                1e-8 * loss_scale + std::numeric_limits<double>::min());
  const ArrayXd z = residuals.abs() / sigma;
  return kind == SeriesKind::train
             ? ArrayXd((z < k_bisquare_c).select((1 - (z / k_bisquare_c).square()).square(), 0.0))
             : ArrayXd((z <= k_huber_k).select(ArrayXd::Ones(z.size()), k_huber_k / z));
}

/// Iteratively reweighted least squares of the exponential on `objective`'s data: the first pass
/// unweighted, then Huber (validation losses: few smooth points, down-weight) or Tukey bisquare
/// (training losses: reject spikes). Returns the best log rate; `objective` keeps the final weights.
double fit_exponential(ProfileObjective& objective, const FitData& data, SeriesKind kind) {
  const bool robust = data.u.size() > 5;
  double log_rate = search_log_rate(objective, k_exponential_rates, 1e-8);
  for (int iteration = 0; robust && iteration < k_robust_iterations; ++iteration) {
    const ProfileFit fit = objective.fit(std::exp(log_rate));
    const ArrayXd residuals = data.y - fit.a * (-std::exp(log_rate) * data.u).exp() - fit.c;
    const ArrayXd weights = robust_weights(residuals, data.y.abs().maxCoeff(), kind);
    if (iteration > 0 && (weights - objective.weights()).abs().maxCoeff() < 1e-3) break;
    objective.set_weights(weights);
    log_rate = search_log_rate(objective, k_exponential_rates, 1e-8,
                               iteration > 0 ? std::optional<double>(log_rate) : std::nullopt);
  }
  return log_rate;
}

/// Mean and variance of a prediction over a posterior.
struct RatePosterior {
  double mean = 0, variance = 0;
};

/// Weighted mean and variance of `predictions` with weights exp(log_weights - max); non-finite
/// predictions are skipped.
RatePosterior weighted_moments(const std::vector<double>& log_weights, const std::vector<double>& predictions) {
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

/// Posterior mean and variance of the prediction a exp(-r h) + c over the decay rate: a flat prior
/// on log r over the search range and the Gaussian profile likelihood exp(-(SSE(r) - SSE_min) / 2 s^2),
/// on a grid plus the best rate. A slow, noisy decay leaves the rate poorly determined; averaging
/// over it, rather than betting on the least-squares rate, keeps 10x extrapolations from the
/// extremes (Bayesian model averaging, Hoeting et al. 1999).
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
  return weighted_moments(log_weights, predictions);
}

/// The least-squares variance of a g + c at the fitted a, c for weights w and basis e on the data:
/// s^2 g^T (X^T W X)^-1 g with X = [e, 1] and g = (g, 1); 0 when not finite.
double linear_variance(const ArrayXd& weights, const ArrayXd& basis, double g, double s_sq) {
  Eigen::Matrix2d information;
  information << (weights * basis.square()).sum(), (weights * basis).sum(), (weights * basis).sum(), weights.sum();
  const Eigen::Vector2d gradient(g, 1.0);
  const double within = s_sq * gradient.dot(information.completeOrthogonalDecomposition().solve(gradient));
  return std::isfinite(within) ? std::max(within, 0.0) : 0.0;
}

/// The power law a (1 + u/s)^-p + c on a grid of offsets s. For each s the data are held in
/// v = log(1 + u/s), where the curve is the exponential a exp(-p v) + c: the exponential's variable
/// projection and rate search serve for the exponent p. Not copyable: objectives refer to the data.
class PowerLawFit {
 public:
  /// Fits `data` (u in [0, 1]) with fixed `weights`, those the exponential's reweighting ended with,
  /// so that both fits discount the same outliers and compare on equal terms.
  PowerLawFit(const FitData& data, bool nonnegative, const ArrayXd& weights)
      : m_log_exponents(k_shifts), m_sses(k_shifts) {
    m_transformed.reserve(k_shifts);
    m_objectives.reserve(k_shifts);
    for (int j = 0; j < k_shifts; ++j) {
      m_transformed.push_back({(data.u / shift(j)).log1p(), data.y});
      m_objectives.emplace_back(m_transformed.back(), nonnegative);
      m_objectives.back().set_weights(weights);
      profile_exponent(j);
    }
    m_best = static_cast<int>(std::min_element(m_sses.begin(), m_sses.end()) - m_sses.begin());
    m_log_exponents[m_best] =
        search_log_rate(m_objectives[m_best], k_power_exponents, k_tolerance, m_log_exponents[m_best]);
    m_sses[m_best] = m_objectives[m_best].sse(m_log_exponents[m_best]);
  }
  PowerLawFit(const PowerLawFit&) = delete;
  PowerLawFit& operator=(const PowerLawFit&) = delete;

  static double shift(int j) {
    return std::exp(k_log_shift_min + j * (k_log_shift_max - k_log_shift_min) / (k_shifts - 1));
  }
  int best() const { return m_best; }
  double exponent(int j) const { return std::exp(m_log_exponents[j]); }
  ProfileFit fit(int j) const { return m_objectives[j].fit(exponent(j)); }
  ProfileFit best_fit() const { return fit(m_best); }
  double sse(int j) const { return m_sses[j]; }
  /// (1 + u/s)^-p at the data points for offset j and its best exponent.
  ArrayXd basis(int j) const { return m_objectives[j].basis(exponent(j)); }
  const ArrayXd& weights() const { return m_objectives[0].weights(); }
  /// Posterior mean and variance of the value at normalized time h >= 0 over (log s, log p): flat
  /// priors, the Gaussian likelihood exp(-(SSE - SSE_min) / 2 s_sq) of each offset with each grid
  /// exponent and its best one, as rate_posterior does over the exponential's rate.
  RatePosterior posterior(double h, double s_sq) const {
    std::vector<double> log_weights, predictions;
    const double best_sse = m_sses[m_best];
    for (int j = 0; j < k_shifts; ++j) {
      const double log_decay = std::log1p(h / shift(j));
      for (int i = -1; i < k_power_exponents.grid; ++i) {
        const double p = i < 0 ? exponent(j) : std::exp(k_power_exponents.log_min + i * k_power_exponents.spacing());
        const ProfileFit f = m_objectives[j].fit(p);
        log_weights.push_back(-(f.sse - best_sse) / (2 * s_sq));
        predictions.push_back(f.a * std::exp(-p * log_decay) + f.c);
      }
    }
    return weighted_moments(log_weights, predictions);
  }
  /// The curve of offset j (its best exponent) at normalized times u > -s.
  ArrayXd at(int j, const ArrayXd& u) const {
    const ProfileFit f = fit(j);
    return f.a * (-exponent(j) * (u / shift(j)).log1p()).exp() + f.c;
  }

 private:
  /// The exponent for offset j: the best of the grid over log p, then the vertex of the parabola
  /// through it and its neighbours when that is better (Brent is kept for the best offset).
  void profile_exponent(int j) {
    const ProfileObjective& objective = m_objectives[j];
    const RateRange& range = k_power_exponents;
    std::vector<double> sses(range.grid);
    for (int i = 0; i < range.grid; ++i) sses[i] = objective.sse(range.log_min + i * range.spacing());
    const int k = static_cast<int>(std::min_element(sses.begin(), sses.end()) - sses.begin());
    m_log_exponents[j] = range.log_min + k * range.spacing(), m_sses[j] = sses[k];
    if (k == 0 || k == range.grid - 1) return;
    const double curvature = sses[k - 1] - 2 * sses[k] + sses[k + 1];
    if (!(curvature > 0)) return;
    const double vertex = m_log_exponents[j] + 0.5 * range.spacing() * (sses[k - 1] - sses[k + 1]) / curvature;
    const double vertex_sse = objective.sse(vertex);
    if (vertex_sse < m_sses[j]) m_log_exponents[j] = vertex, m_sses[j] = vertex_sse;
  }

  static constexpr double k_tolerance = 1e-4;
  std::vector<FitData> m_transformed;
  std::vector<ProfileObjective> m_objectives;
  std::vector<double> m_log_exponents, m_sses;
  int m_best = 0;
};

/// Median-of-bin summary of a series longer than `max_points` (`bins` equal-count consecutive bins).
FitData summarize(const ArrayXd& u, const ArrayXd& y, Eigen::Index max_points, Eigen::Index bins) {
  if (u.size() <= max_points) return {u, y};
  FitData summary{ArrayXd(bins), ArrayXd(bins)};
  for (Eigen::Index bin = 0; bin < bins; ++bin) {
    const Eigen::Index begin = bin * u.size() / bins, end = (bin + 1) * u.size() / bins;
    summary.u[bin] = u.segment(begin, end - begin).mean();
    summary.y[bin] = median_of(std::vector<double>(y.data() + begin, y.data() + end));
  }
  return summary;
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

/// A finite series in normalized time u = (t - first step) / span, and what a forecast needs of it.
struct Window {
  ArrayXd u, y;          ///< every point
  FitData data;          ///< what the exponential is fitted to (bin medians of long series)
  double t_first = 0, span = 1, h = 0;  ///< first step, last - first step, normalized horizon
  bool nonnegative = true;
  SeriesKind kind = SeriesKind::train;
};

/// The points a fit's residual scale and points_used count: with Tukey weights on unsummarized
/// training data, those not rejected; else all.
ArrayXd used_points(const Window& window, const ArrayXd& weights, bool robust) {
  return window.kind == SeriesKind::train && robust && weights.size() == window.u.size()
             ? ArrayXd((weights > 0).cast<double>())
             : ArrayXd::Ones(window.u.size());
}

/// A robust exponential fit of `data` (u in [0, 1]): fit_exponential's log rate; `objective` holds
/// the final weights. Refers to `data`, which must outlive it.
struct ExponentialFit {
  ExponentialFit(const FitData& data, bool nonnegative, SeriesKind kind)
      : objective(data, nonnegative), log_rate(fit_exponential(objective, data, kind)) {}
  /// The fit `full` of the whole series carried over to its bin medians `bins`: weights from the
  /// bins' residuals about `full`'s curve, then one weighted search near its rate.
  ExponentialFit(const FitData& bins, bool nonnegative, SeriesKind kind, const ExponentialFit& full)
      : objective(bins, nonnegative), log_rate(full.log_rate) {
    const ProfileFit fit = full.objective.fit(std::exp(full.log_rate));
    const ArrayXd residuals = bins.y - fit.a * (-std::exp(full.log_rate) * bins.u).exp() - fit.c;
    objective.set_weights(robust_weights(residuals, bins.y.abs().maxCoeff(), kind));
    log_rate = search_log_rate(objective, k_exponential_rates, 1e-8, full.log_rate);
  }
  ProfileObjective objective;
  double log_rate;
};

/// `value`, or the largest finite double with the sign of `sign` where it overflowed.
double finite_or_largest(double value, double sign) {
  return std::isfinite(value) ? value : std::copysign(std::numeric_limits<double>::max(), sign);
}

/// What every curve's forecast does once fitted: residual_scale and points_used from
/// `curve_residuals` (the losses minus the curve, at every point), then `prediction` and
/// `prediction_std` from `posterior(s_sq)` (mean and variance of the value at the horizon over the
/// curve's nonlinear parameters) plus, by the law of total variance, the linear least-squares
/// variance of a g + c at the best fit (`basis` its g on the fitted data, `decay_at_horizon` at the
/// horizon). s_sq = SSE / (sum of weights - `parameters`). With `parameters` or fewer points kept,
/// the spread is the distance to the last loss.
template <typename Posterior>
void finish_forecast(Forecast& result, const Window& window, const ArrayXd& curve_residuals, const ArrayXd& weights,
                     const ProfileFit& fit, int parameters, const ArrayXd& basis, double decay_at_horizon,
                     Posterior posterior) {
  const bool robust = weights.size() > 5;
  const ArrayXd used = used_points(window, weights, robust);
  result.residual_scale = robust_scale(curve_residuals, used);
  result.points_used = static_cast<int>((used > 0).count());
  const Eigen::Index effective = (weights > 0).count();
  if (effective > parameters && fit.sse > 0) {
    const double s_sq = fit.sse / std::max(weights.sum() - parameters, 1.0);
    const RatePosterior spread = posterior(s_sq);
    result.prediction = spread.mean;
    result.prediction_std = std::sqrt(spread.variance + linear_variance(weights, basis, decay_at_horizon, s_sq));
  } else if (effective <= parameters) {
    result.prediction_std = std::abs(result.prediction - window.y[window.y.size() - 1]);
  }
}

Forecast exponential_forecast(const Window& window, const ExponentialFit& exponential) {
  const double log_rate = exponential.log_rate, rate = std::exp(log_rate);
  const ProfileFit fit = exponential.objective.fit(rate);
  const double decay_at_horizon = std::exp(-rate * window.h);

  Forecast result;
  result.status = ForecastStatus::ok;
  result.prediction = fit.a * decay_at_horizon + fit.c;
  result.b = -rate / window.span;
  result.a = finite_or_largest(fit.a * std::exp(rate * window.t_first / window.span), fit.a);
  result.c = fit.c;
  finish_forecast(result, window, window.y - fit.a * (-rate * window.u).exp() - fit.c, exponential.objective.weights(),
                  fit, 3, (-rate * window.data.u).exp(), decay_at_horizon, [&](double s_sq) {
                    return rate_posterior(exponential.objective, log_rate, fit.sse, s_sq, window.h);
                  });
  return result;
}

/// The forecast of `power_law` (fitted to the window or its bin medians): its prediction averaged
/// over the posterior of s and p, `prediction_std` that spread plus the a, c least-squares variance
/// at the best fit. In the caller's units y = a (t + t0)^b + c, t0 = s span - first step, b = -p.
Forecast power_law_forecast(const Window& window, const PowerLawFit& power_law) {
  const int best = power_law.best();
  const double s = PowerLawFit::shift(best), p = power_law.exponent(best);
  const ProfileFit fit = power_law.best_fit();
  const double decay_at_horizon = std::pow(1 + window.h / s, -p);

  Forecast result;
  result.status = ForecastStatus::ok;
  result.shape = CurveShape::power_law;
  result.prediction = fit.a * decay_at_horizon + fit.c;
  result.b = -p;
  result.t0 = s * window.span - window.t_first;
  result.a = finite_or_largest(fit.a * std::pow(s * window.span, p), fit.a);
  result.c = fit.c;
  finish_forecast(result, window, window.y - power_law.at(best, window.u), power_law.weights(), fit, 4,
                  power_law.basis(best), decay_at_horizon,
                  [&](double s_sq) { return power_law.posterior(window.h, s_sq); });
  return result;
}

/// The power law's weight beside the exponential, a posterior probability: 1 / (1 + exp(T - L)),
/// L = (m/2) log(SSE_exp / SSE_pow) the Gaussian log-likelihood ratio of the two fits with the noise
/// variance profiled out (Wilks 1938), their SSEs weighted alike over the m points the reweighting
/// kept, and T the prior log odds against the power law.
double power_law_weight(const ExponentialFit& exponential, const PowerLawFit& power_law, SeriesKind kind) {
  const double tiny = std::numeric_limits<double>::min();
  const double exponential_sse = std::max(exponential.objective.fit(std::exp(exponential.log_rate)).sse, tiny);
  const double power_law_sse = std::max(power_law.sse(power_law.best()), tiny);
  const double kept = static_cast<double>((power_law.weights() > 0).count());
  const double log_ratio = 0.5 * kept * std::log(exponential_sse / power_law_sse);
  const double prior_log_odds =
      kind == SeriesKind::train ? k_power_law_prior_log_odds_train : k_power_law_prior_log_odds_val;
  const double weight = 1 / (1 + std::exp(prior_log_odds - log_ratio));
  return std::isfinite(weight) ? weight : 0.0;
}

/// `exponential` averaged with the power law's forecast by the power law's weight (see the header).
Forecast average_with_power_law(const Window& window, const ExponentialFit& exponential_fit,
                                const Forecast& exponential) {
  const FitData data = summarize(window.data.u, window.data.y, k_max_power_law_points, k_max_power_law_points);
  std::optional<ExponentialFit> refit;
  const ExponentialFit& on_data = data.u.size() == window.data.u.size()
                                      ? exponential_fit
                                      : refit.emplace(data, window.nonnegative, window.kind, exponential_fit);
  const PowerLawFit power_law(data, window.nonnegative, on_data.objective.weights());
  const double weight = power_law_weight(on_data, power_law, window.kind);
  if (!(weight >= k_min_power_law_weight)) return exponential;
  const Forecast power = power_law_forecast(window, power_law);
  Forecast result = weight > 0.5 ? power : exponential;
  result.power_law_weight = weight;
  result.prediction = (1 - weight) * exponential.prediction + weight * power.prediction;
  // The mixture's variance: the weighted variances plus the spread between the two forecasts.
  const double gap = power.prediction - exponential.prediction;
  result.prediction_std = std::sqrt((1 - weight) * exponential.prediction_std * exponential.prediction_std +
                                    weight * power.prediction_std * power.prediction_std +
                                    weight * (1 - weight) * gap * gap);
  return result;
}

}  // namespace

Forecast forecast_loss(const std::vector<double>& steps, const std::vector<double>& losses, double horizon,
                       SeriesKind kind, ForecastFamily family) {
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
  Window window;
  window.t_first = steps.front();
  window.span = steps.back() - steps.front();
  window.u = (Eigen::Map<const ArrayXd>(steps.data(), n) - window.t_first) / window.span;
  window.y = Eigen::Map<const ArrayXd>(losses.data(), n);
  window.data = summarize(window.u, window.y, k_max_fit_points, k_bins);
  window.h = (horizon - window.t_first) / window.span;
  window.nonnegative = window.y.minCoeff() >= 0;
  window.kind = kind;

  const ExponentialFit exponential_fit(window.data, window.nonnegative, kind);
  Forecast result = exponential_forecast(window, exponential_fit);
  // The power law is defined from u > -s on: a horizon before the first step gets the exponential.
  if (family == ForecastFamily::exponential_or_power_law && n >= k_min_power_law_points && window.h >= 0) {
    result = average_with_power_law(window, exponential_fit, result);
  }
  if (!std::isfinite(result.prediction) || !std::isfinite(result.a) || !std::isfinite(result.b) ||
      !std::isfinite(result.c) || !std::isfinite(result.prediction_std) || !std::isfinite(result.residual_scale)) {
    return unfitted(finite_losses, ForecastStatus::diverged, largest(finite_losses));
  }
  return result;
}

}  // namespace autolrs::numerics
