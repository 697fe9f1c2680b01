#pragma once

// REFERENCE BASELINE, test code only: a re-implementation of the original AutoLRS forecaster
// (github.com/YuchenJin/autolrs, autolrs_server.py: spline_iter, exp_forecast, f), used to show
// that autolrs::numerics::forecast_loss does better. Not part of the product.
//
// The original, on losses at indices xs = 0..n-1:
//  1. spline_iter: fit scipy UnivariateSpline(xs, ys, k=2) with its default smoothing s = n, drop the
//     worst round(3% n) residuals (training) or the single worst (validation) whose position in the
//     current arrays is below bound = xs[(n-1)/2]; 10 rounds for training, 1 for validation. The
//     original compares positions (`[i for i in outliers if i < bound]`) with a step value fixed
//     before the loop, so once a round has dropped points, later points past the middle of the
//     window can be dropped too. We reproduce that as written.
//  2. Smooth: the same spline on the kept points, evaluated at every xs.
//  3. scipy.optimize.fmin (Nelder-Mead, x0 = 0, xtol = ftol = 1e-5) over beta of the residual of
//     lstsq([exp(-exp(beta) xs), 1], smoothed); then b = -exp(beta), (a, c) by lstsq.
//  4. Prediction a exp(b pred_index) + c.
// FITPACK returns the least-squares polynomial of degree k when its residual is <= s (curfit's
// documented behaviour), which holds for loss-sized values (per-point residuals well below 1) as in
// this corpus; the baseline reports when it does not (spline_exact = false). numpy's lstsq returns
// no residual for a rank-deficient matrix (rcond = eps max(M, N)), which makes scipy's fmin raise:
// that, and a non-finite result, are the baseline's failures.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include <Eigen/Dense>

namespace autolrs::testing::reference {

struct BaselineForecast {
  std::optional<double> prediction;  ///< nullopt: the original raises or returns a non-finite value
  bool spline_exact = true;          ///< the quadratic least-squares stand-in for the spline is exact
};

/// Least-squares quadratic through (xs, ys), evaluated at `at`; sets *exact to false when its
/// residual exceeds FITPACK's default smoothing s = number of points.
inline Eigen::VectorXd quadratic_smooth(const Eigen::VectorXd& xs, const Eigen::VectorXd& ys, const Eigen::VectorXd& at,
                                        bool* exact) {
  Eigen::MatrixXd design(xs.size(), 3);
  design.col(0).setOnes();
  design.col(1) = xs;
  design.col(2) = xs.array().square().matrix();
  const Eigen::Vector3d coefficients = design.colPivHouseholderQr().solve(ys);
  if ((design * coefficients - ys).squaredNorm() > static_cast<double>(xs.size())) *exact = false;
  return (coefficients[0] + coefficients[1] * at.array() + coefficients[2] * at.array().square()).matrix();
}

/// numpy.linalg.lstsq with rcond = None: solution and residual, nullopt when rank-deficient.
struct LstsqResult {
  Eigen::Vector2d solution;
  double residual = 0;
};
inline std::optional<LstsqResult> lstsq(const Eigen::MatrixXd& design, const Eigen::VectorXd& ys) {
  if (!design.allFinite()) return std::nullopt;  // LinAlgError: SVD did not converge
  Eigen::JacobiSVD<Eigen::MatrixXd> svd(design, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Eigen::VectorXd singular = svd.singularValues();
  const double cutoff = std::numeric_limits<double>::epsilon() * static_cast<double>(design.rows()) * singular[0];
  if (singular[1] <= cutoff) return std::nullopt;
  LstsqResult result;
  result.solution = svd.solve(ys);
  result.residual = (design * result.solution - ys).squaredNorm();
  return result;
}

inline Eigen::MatrixXd exponential_design(const Eigen::VectorXd& xs, double rate) {
  Eigen::MatrixXd design(xs.size(), 2);
  design.col(0) = (-rate * xs.array()).exp().matrix();
  design.col(1).setOnes();
  return design;
}

/// scipy.optimize.fmin for one variable (scipy's _minimize_neldermead: rho 1, chi 2, psi 0.5,
/// sigma 0.5, initial step 0.00025 from x0 = 0, at most 200 iterations and evaluations).
/// nullopt when an evaluation fails.
template <typename F>
std::optional<double> nelder_mead_1d(F objective, double x0, double xtol, double ftol) {
  double sim[2] = {x0, x0 != 0 ? 1.05 * x0 : 0.00025};
  double fsim[2];
  int calls = 0;
  for (int i = 0; i < 2; ++i) {
    const std::optional<double> value = objective(sim[i]);
    ++calls;
    if (!value) return std::nullopt;
    fsim[i] = *value;
  }
  const auto sort = [&] {
    if (fsim[1] < fsim[0]) std::swap(sim[0], sim[1]), std::swap(fsim[0], fsim[1]);
  };
  sort();
  for (int iteration = 0; iteration < 200 && calls < 200; ++iteration) {
    if (std::abs(sim[1] - sim[0]) <= xtol && std::abs(fsim[0] - fsim[1]) <= ftol) break;
    const double xbar = sim[0];
    const double xr = 2 * xbar - sim[1];
    const std::optional<double> fxr = objective(xr);
    ++calls;
    if (!fxr) return std::nullopt;
    bool shrink = false;
    if (*fxr < fsim[0]) {
      const double xe = 3 * xbar - 2 * sim[1];
      const std::optional<double> fxe = objective(xe);
      ++calls;
      if (!fxe) return std::nullopt;
      if (*fxe < *fxr) sim[1] = xe, fsim[1] = *fxe; else sim[1] = xr, fsim[1] = *fxr;
    } else if (*fxr < fsim[1]) {
      const double xc = 1.5 * xbar - 0.5 * sim[1];
      const std::optional<double> fxc = objective(xc);
      ++calls;
      if (!fxc) return std::nullopt;
      if (*fxc <= *fxr) sim[1] = xc, fsim[1] = *fxc; else shrink = true;
    } else {
      const double xcc = 0.5 * xbar + 0.5 * sim[1];
      const std::optional<double> fxcc = objective(xcc);
      ++calls;
      if (!fxcc) return std::nullopt;
      if (*fxcc < fsim[1]) sim[1] = xcc, fsim[1] = *fxcc; else shrink = true;
    }
    if (shrink) {
      sim[1] = sim[0] + 0.5 * (sim[1] - sim[0]);
      const std::optional<double> value = objective(sim[1]);
      ++calls;
      if (!value) return std::nullopt;
      fsim[1] = *value;
    }
    sort();
  }
  return sim[0];
}

/// The original's forecast at `pred_index` (in units of series indices) of `losses` (equally spaced).
inline BaselineForecast baseline_forecast(const std::vector<double>& losses, double pred_index, bool is_training) {
  BaselineForecast result;
  const auto n = static_cast<Eigen::Index>(losses.size());
  const Eigen::VectorXd all_xs = Eigen::VectorXd::LinSpaced(n, 0, static_cast<double>(n - 1));
  const Eigen::VectorXd all_ys = Eigen::Map<const Eigen::VectorXd>(losses.data(), n);
  if (!all_ys.allFinite()) return result;  // the server feeds 'nan' to BO instead of forecasting

  std::vector<double> xs(all_xs.data(), all_xs.data() + n), ys(losses);
  const double bound = all_xs[static_cast<Eigen::Index>(static_cast<double>(n - 1) * 0.5)];
  const int rounds = is_training ? 10 : 1;
  for (int round = 0; round < rounds; ++round) {
    const Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXd>(xs.data(), static_cast<Eigen::Index>(xs.size()));
    const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(ys.data(), static_cast<Eigen::Index>(ys.size()));
    const Eigen::VectorXd residual = (y - quadratic_smooth(x, y, x, &result.spline_exact)).cwiseAbs();
    std::vector<std::size_t> order(xs.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) { return residual[static_cast<Eigen::Index>(l)] < residual[static_cast<Eigen::Index>(r)]; });
    // Python's sorted(...)[int(round(-len * 0.03)):] (round half to even) keeps everything when
    // the count rounds to 0.
    const long drop = is_training ? static_cast<long>(std::nearbyint(static_cast<double>(xs.size()) * 0.03)) : 1;
    const std::size_t first_outlier = drop == 0 ? 0 : order.size() - static_cast<std::size_t>(drop);
    std::vector<bool> outlier(xs.size(), false);
    for (std::size_t k = first_outlier; k < order.size(); ++k) {
      if (static_cast<double>(order[k]) < bound) outlier[order[k]] = true;  // a position, as in the original
    }
    std::vector<double> kept_x, kept_y;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      if (!outlier[i]) kept_x.push_back(xs[i]), kept_y.push_back(ys[i]);
    }
    xs = kept_x, ys = kept_y;
  }
  const Eigen::VectorXd kept_x = Eigen::Map<const Eigen::VectorXd>(xs.data(), static_cast<Eigen::Index>(xs.size()));
  const Eigen::VectorXd kept_y = Eigen::Map<const Eigen::VectorXd>(ys.data(), static_cast<Eigen::Index>(ys.size()));
  const Eigen::VectorXd smoothed = quadratic_smooth(kept_x, kept_y, all_xs, &result.spline_exact);

  const std::optional<double> beta = nelder_mead_1d(
      [&](double b) -> std::optional<double> {
        const std::optional<LstsqResult> fit = lstsq(exponential_design(all_xs, std::exp(b)), smoothed);
        if (!fit) return std::nullopt;
        return fit->residual;
      },
      0.0, 1e-5, 1e-5);
  if (!beta) return result;
  const double rate = std::exp(*beta);
  const std::optional<LstsqResult> fit = lstsq(exponential_design(all_xs, rate), smoothed);
  if (!fit) return result;
  const double prediction = fit->solution[0] * std::exp(-rate * pred_index) + fit->solution[1];
  if (std::isfinite(prediction)) result.prediction = prediction;
  return result;
}

}  // namespace autolrs::testing::reference
