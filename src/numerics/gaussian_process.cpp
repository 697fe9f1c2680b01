#include "numerics/gaussian_process.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

namespace autolrs::numerics {

namespace {

constexpr double k_sqrt5 = 2.23606797749979;

std::array<double, 3> clamp_to(const std::array<double, 3>& values, const GpBounds& bounds) {
  std::array<double, 3> clamped{};
  for (int i = 0; i < 3; ++i) clamped[i] = std::clamp(values[i], bounds.lower[i], bounds.upper[i]);
  return clamped;
}

}  // namespace

double matern52(double distance, double length_scale, double signal_var) {
  const double s = k_sqrt5 * distance / length_scale;
  return signal_var * (1 + s + s * s / 3) * std::exp(-s);
}

void GaussianProcess::set_data(const std::vector<double>& x, const std::vector<double>& y,
                               const std::vector<double>& extra_noise_var) {
  if (x.empty() || x.size() != y.size() || x.size() != extra_noise_var.size()) {
    throw std::invalid_argument("GaussianProcess: needs at least one point and equal-length inputs");
  }
  const auto n = static_cast<Eigen::Index>(x.size());
  m_x = Eigen::Map<const Eigen::VectorXd>(x.data(), n);
  const Eigen::VectorXd values = Eigen::Map<const Eigen::VectorXd>(y.data(), n);
  const Eigen::VectorXd noise = Eigen::Map<const Eigen::VectorXd>(extra_noise_var.data(), n);
  if (!m_x.allFinite() || !values.allFinite() || !noise.allFinite() || (noise.array() < 0).any()) {
    throw std::invalid_argument("GaussianProcess: inputs must be finite and noise variances >= 0");
  }
  m_y_mean = values.mean();
  const double variance = (values.array() - m_y_mean).square().mean();
  m_y_scale = variance > 0 ? std::sqrt(variance) : 1.0;
  m_y_standardized = (values.array() - m_y_mean) / m_y_scale;
  m_extra_noise = noise / (m_y_scale * m_y_scale);
}

Eigen::MatrixXd GaussianProcess::covariance(const GpHyperparameters& hyperparameters) const {
  const double length = std::exp(hyperparameters.log_length_scale);
  const double signal = std::exp(hyperparameters.log_signal_var);
  const double noise = std::exp(hyperparameters.log_noise_var);
  const Eigen::Index n = m_x.size();
  Eigen::MatrixXd k(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) k(i, j) = k(j, i) = matern52(std::abs(m_x[i] - m_x[j]), length, signal);
    k(i, i) += noise + m_extra_noise[i];
  }
  return k;
}

Eigen::LLT<Eigen::MatrixXd> GaussianProcess::factorize(const Eigen::MatrixXd& covariance, double* jitter) const {
  *jitter = 0;
  Eigen::LLT<Eigen::MatrixXd> cholesky(covariance);
  const double scale = covariance.diagonal().mean();
  const Eigen::MatrixXd identity = Eigen::MatrixXd::Identity(covariance.rows(), covariance.cols());
  for (double relative = 1e-10; cholesky.info() != Eigen::Success && relative <= 1.0; relative *= 10) {
    *jitter = relative * scale;
    cholesky.compute(covariance + *jitter * identity);
  }
  if (cholesky.info() != Eigen::Success) throw std::runtime_error("GaussianProcess: covariance not positive definite");
  return cholesky;
}

LogMarginalLikelihood GaussianProcess::log_marginal_likelihood(const GpHyperparameters& hyperparameters) const {
  const Eigen::Index n = m_x.size();
  double jitter = 0;
  const Eigen::LLT<Eigen::MatrixXd> cholesky = factorize(covariance(hyperparameters), &jitter);
  const Eigen::VectorXd alpha = cholesky.solve(m_y_standardized);
  const Eigen::MatrixXd lower = cholesky.matrixL();
  LogMarginalLikelihood result;
  // log p = -y^T alpha / 2 - sum log L_ii - n log(2 pi) / 2 (R&W Algorithm 2.1).
  result.value = -0.5 * m_y_standardized.dot(alpha) - lower.diagonal().array().log().sum() -
                 0.5 * static_cast<double>(n) * std::log(2 * std::numbers::pi);

  // d log p / d theta_j = tr((alpha alpha^T - K^-1) dK/dtheta_j) / 2 (R&W eq. 5.9).
  const Eigen::MatrixXd inner = alpha * alpha.transpose() - cholesky.solve(Eigen::MatrixXd::Identity(n, n));
  const double length = std::exp(hyperparameters.log_length_scale);
  const double signal = std::exp(hyperparameters.log_signal_var);
  const double noise = std::exp(hyperparameters.log_noise_var);
  // dK/dlog(sigma_f^2) = K_f, the kernel part of K; dk/dlog(l) = sigma_f^2 s^2 (1 + s) exp(-s) / 3
  // (from dk/ds = -sigma_f^2 s (1 + s) exp(-s) / 3 and ds/dlog(l) = -s). Both are
  // symmetric with diagonals sigma_f^2 and 0.
  double d_length = 0, d_signal = signal * inner.trace();
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < i; ++j) {
      const double s = k_sqrt5 * std::abs(m_x[i] - m_x[j]) / length;
      const double decay = signal * std::exp(-s);
      d_length += 2 * inner(i, j) * decay * s * s * (1 + s) / 3;
      d_signal += 2 * inner(i, j) * decay * (1 + s + s * s / 3);
    }
  }
  result.gradient = {0.5 * d_length, 0.5 * d_signal, 0.5 * noise * inner.trace()};
  return result;
}

LogMarginalLikelihood GaussianProcess::log_posterior(const GpHyperparameters& hyperparameters,
                                                    const GpPrior& prior) const {
  LogMarginalLikelihood result = log_marginal_likelihood(hyperparameters);
  const std::array<double, 3> theta = hyperparameters.as_array();
  for (std::size_t j = 0; j < 3; ++j) {
    const double z = (theta[j] - prior.mean[j]) / prior.sd[j];
    result.value -= 0.5 * z * z;
    result.gradient[j] -= z / prior.sd[j];
  }
  return result;
}

void GaussianProcess::condition(const std::vector<double>& x, const std::vector<double>& y,
                                const std::vector<double>& extra_noise_var, const GpHyperparameters& hyperparameters) {
  set_data(x, y, extra_noise_var);
  m_hyperparameters = hyperparameters;
  m_cholesky = factorize(covariance(hyperparameters), &m_jitter);
  m_alpha = m_cholesky.solve(m_y_standardized);
}

void GaussianProcess::fit(const std::vector<double>& x, const std::vector<double>& y,
                          const std::vector<double>& extra_noise_var, const GpBounds& bounds,
                          const GpPrior& prior) {
  set_data(x, y, extra_noise_var);
  // Fixed starts (short, medium, long length scales) keep the fit deterministic. Each runs iRprop-
  // (Igel & Husken 2000): per-coordinate steps along the gradient's sign, grown 1.2x while the sign
  // holds and halved (without a move) when it flips, projected onto the bounds; the best point
  // visited wins; a start ends when every step is below 0.01 (log units) or after 60 evaluations.
  // A coordinate pinned at a bound by its gradient counts as converged.
  std::array<double, 3> best = clamp_to(GpHyperparameters{}.as_array(), bounds);
  double best_value = -std::numeric_limits<double>::infinity();
  for (double start_length : {0.05, 0.2, 0.8}) {
    std::array<double, 3> theta = clamp_to({std::log(start_length), 0.0, std::log(1e-2)}, bounds);
    std::array<double, 3> steps{0.3, 0.3, 0.3}, previous_gradient{};
    for (int iteration = 0; iteration < 60; ++iteration) {
      const LogMarginalLikelihood current = log_posterior(GpHyperparameters::from_array(theta), prior);
      if (current.value > best_value) best_value = current.value, best = theta;
      bool converged = true;
      for (std::size_t i = 0; i < 3; ++i) {
        double gradient = current.gradient[i];
        if (gradient * previous_gradient[i] > 0) {
          steps[i] = std::min(steps[i] * 1.2, 1.0);
        } else if (gradient * previous_gradient[i] < 0) {
          steps[i] *= 0.5;
          gradient = 0;
        }
        previous_gradient[i] = gradient;
        const double moved = std::clamp(theta[i] + (gradient > 0 ? steps[i] : gradient < 0 ? -steps[i] : 0.0),
                                        bounds.lower[i], bounds.upper[i]);
        const bool pinned = gradient != 0 && moved == theta[i];
        theta[i] = moved;
        if (!pinned && steps[i] > 1e-2) converged = false;
      }
      if (converged) break;
    }
  }
  m_hyperparameters = GpHyperparameters::from_array(best);
  m_cholesky = factorize(covariance(m_hyperparameters), &m_jitter);
  m_alpha = m_cholesky.solve(m_y_standardized);
}

GaussianProcess::Prediction GaussianProcess::predict(double x) const {
  const double length = std::exp(m_hyperparameters.log_length_scale);
  const double signal = std::exp(m_hyperparameters.log_signal_var);
  Eigen::VectorXd k_star(m_x.size());
  for (Eigen::Index i = 0; i < m_x.size(); ++i) k_star[i] = matern52(std::abs(x - m_x[i]), length, signal);
  const Eigen::VectorXd v = m_cholesky.matrixL().solve(k_star);
  Prediction prediction;
  prediction.mean = m_y_mean + m_y_scale * k_star.dot(m_alpha);
  prediction.variance = std::max(signal - v.squaredNorm(), 0.0) * m_y_scale * m_y_scale;
  return prediction;
}

}  // namespace autolrs::numerics
