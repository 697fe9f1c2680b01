#pragma once

#include <array>
#include <vector>

#include <Eigen/Dense>

namespace autolrs::numerics {

/// Matérn 5/2 kernel hyperparameters, in log space and in standardized output units.
struct GpHyperparameters {
  double log_length_scale = -1.2;  ///< length scale over x in [0, 1]
  double log_signal_var = 0.0;     ///< sigma_f^2
  double log_noise_var = -4.6;     ///< sigma_n^2, added to every point's own noise

  std::array<double, 3> as_array() const { return {log_length_scale, log_signal_var, log_noise_var}; }
  static GpHyperparameters from_array(const std::array<double, 3>& values) {
    return {values[0], values[1], values[2]};
  }
};

/// Box bounds on the log hyperparameters (lower, upper per component of GpHyperparameters).
struct GpBounds {
  std::array<double, 3> lower{-3.5, -3.0, -13.8};  ///< length 0.03, sigma_f^2 0.05, sigma_n^2 1e-6
  std::array<double, 3> upper{1.1, 3.0, 0.0};      ///< length 3, sigma_f^2 20, sigma_n^2 1
};

/// Independent Gaussian priors on the log hyperparameters (log-normal priors on the length scale,
/// sigma_f^2 and sigma_n^2), as limbo and BoTorch put on theirs: the fit maximizes the log posterior
/// log p(y | X, theta) + sum_j log N(theta_j; mean_j, sd_j^2) instead of the likelihood alone. By
/// likelihood alone, ten noisy points of a smooth curve are often interpolated exactly with a length
/// scale of a few hundredths (a fifth of the seeded datasets in the GP's tests): the posterior mean is
/// a comb of spikes at the data and its variance between them fills the plot.
/// Defaults, for x in [0, 1] and standardized outputs: length scale median 0.5 (95%: 0.19-1.3; a
/// loss-vs-log(LR) curve bends over a sizeable part of the search range), sigma_f^2 median 1 (the
/// data's own variance), sigma_n^2 median 0.05 with a wide spread (the data decide how noisy they are).
struct GpPrior {
  std::array<double, 3> mean{-0.69, 0.0, -3.0};
  std::array<double, 3> sd{0.5, 1.0, 1.5};
};

/// Matérn 5/2 covariance (Rasmussen & Williams 2006, eq. 4.17) with s = sqrt(5) |x - x'| / l:
/// k = sigma_f^2 (1 + s + s^2 / 3) exp(-s).
double matern52(double distance, double length_scale, double signal_var);

/// log p(y | X, theta) and its gradient in the log hyperparameters (R&W eqs. 2.30 and 5.9).
struct LogMarginalLikelihood {
  double value = 0;
  std::array<double, 3> gradient{};
};

/// 1-D Gaussian-process regression with a Matérn 5/2 kernel and a noise term. Outputs are
/// standardized (zero mean, unit variance) before fitting; predictions are in the caller's units.
class GaussianProcess {
 public:
  /// Fits hyperparameters by maximizing the log posterior (log marginal likelihood plus `prior`;
  /// projected iRprop- from a few fixed starts inside `bounds`). `extra_noise_var[i]` (caller's units
  /// squared) is added to the noise at point i. Needs at least one point; all inputs finite. Throws
  /// std::invalid_argument.
  void fit(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& extra_noise_var,
           const GpBounds& bounds = {}, const GpPrior& prior = {});
  /// Conditions on the data with the given hyperparameters (no optimization).
  void condition(const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& extra_noise_var, const GpHyperparameters& hyperparameters);

  /// Posterior mean and variance of the latent function at x (variance >= 0, without noise).
  struct Prediction {
    double mean = 0, variance = 0;
  };
  Prediction predict(double x) const;

  /// Log marginal likelihood of the standardized data under `hyperparameters`, with gradient.
  LogMarginalLikelihood log_marginal_likelihood(const GpHyperparameters& hyperparameters) const;
  /// The objective fit() maximizes: log_marginal_likelihood plus the log density of `prior`
  /// (up to its constant), with gradient.
  LogMarginalLikelihood log_posterior(const GpHyperparameters& hyperparameters, const GpPrior& prior) const;

  const GpHyperparameters& hyperparameters() const { return m_hyperparameters; }
  /// Jitter that was added to the diagonal to make the Cholesky factorization succeed (0 if none).
  double jitter() const { return m_jitter; }

 private:
  void set_data(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& extra_noise_var);
  Eigen::MatrixXd covariance(const GpHyperparameters& hyperparameters) const;
  /// Cholesky of K with jitter growing tenfold from 1e-10 (relative to the diagonal) until it succeeds.
  Eigen::LLT<Eigen::MatrixXd> factorize(const Eigen::MatrixXd& covariance, double* jitter) const;

  Eigen::VectorXd m_x, m_y_standardized, m_extra_noise;  // extra noise in standardized units
  double m_y_mean = 0, m_y_scale = 1;
  GpHyperparameters m_hyperparameters;
  Eigen::LLT<Eigen::MatrixXd> m_cholesky;
  Eigen::VectorXd m_alpha;
  double m_jitter = 0;
};

}  // namespace autolrs::numerics
