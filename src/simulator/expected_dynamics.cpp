#include "simulator/expected_dynamics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include <Eigen/Core>

namespace autolrs::simulator {

namespace {

/// Coefficients of one step's moment recursion for curvature h:
///   E[θ'²]  = a² S_θθ + 2ap S_θv + p² S_vv + lr² σ²
///   E[θ'v'] = ah S_θθ + (aβ + ph) S_θv + pβ S_vv − lr σ²
///   E[v'²]  = h² S_θθ + 2hβ S_θv + β² S_vv + σ²
/// with a = 1 − lr·h, p = −lr·β, σ² = c·h/B.
Eigen::Matrix4d step_matrix(double h, double lr, double beta, double noise_variance) {
  const double a = 1.0 - lr * h;
  const double p = -lr * beta;
  Eigen::Matrix4d m;
  m << a * a, 2 * a * p, p * p, lr * lr * noise_variance,  //
      a * h, a * beta + p * h, p * beta, -lr * noise_variance,  //
      h * h, 2 * h * beta, beta * beta, noise_variance,  //
      0, 0, 0, 1;
  return m;
}

Eigen::Matrix4d matrix_power(Eigen::Matrix4d base, long exponent) {
  Eigen::Matrix4d result = Eigen::Matrix4d::Identity();
  while (exponent > 0) {
    if (exponent & 1) result = base * result;
    base = base * base;
    exponent >>= 1;
  }
  return result;
}

double noise_variance(const Task& task, double h) { return task.noise_scale * h / task.batch_size; }

}  // namespace

Moments moments_of(const State& state) {
  Moments moments;
  for (std::size_t i = 0; i < state.theta.size(); ++i) {
    moments.theta_sq.push_back(state.theta[i] * state.theta[i]);
    moments.theta_velocity.push_back(state.theta[i] * state.velocity[i]);
    moments.velocity_sq.push_back(state.velocity[i] * state.velocity[i]);
  }
  return moments;
}

void advance(const Task& task, Moments& moments, std::span<const double> lrs) {
  const std::vector<double> h = curvatures(task);
  const double beta = task.momentum;
  std::vector<double> sigma_sq(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) sigma_sq[i] = noise_variance(task, h[i]);
  // Restrict-qualified so the compiler vectorizes the loop over dimensions.
  double* __restrict tt = moments.theta_sq.data();
  double* __restrict tv = moments.theta_velocity.data();
  double* __restrict vv = moments.velocity_sq.data();
  const double* __restrict hh = h.data();
  const double* __restrict noise = sigma_sq.data();
  const std::size_t d = h.size();
  for (double lr : lrs) {
    const double p = -lr * beta;
    for (std::size_t i = 0; i < d; ++i) {
      const double a = 1.0 - lr * hh[i];
      const double next_tt = a * a * tt[i] + 2 * a * p * tv[i] + p * p * vv[i] + lr * lr * noise[i];
      const double next_tv = a * hh[i] * tt[i] + (a * beta + p * hh[i]) * tv[i] + p * beta * vv[i] - lr * noise[i];
      const double next_vv = hh[i] * hh[i] * tt[i] + 2 * hh[i] * beta * tv[i] + beta * beta * vv[i] + noise[i];
      tt[i] = next_tt;
      tv[i] = next_tv;
      vv[i] = next_vv;
    }
  }
}

Eigen::Matrix4d segment_transition(const Task& task, double h, const ScheduleSegment& segment) {
  return matrix_power(step_matrix(h, segment.lr, task.momentum, noise_variance(task, h)), segment.steps);
}

void advance(const Task& task, Moments& moments, const ScheduleSegment& segment) {
  if (segment.steps <= 0) return;
  const std::vector<double> h = curvatures(task);
  for (std::size_t i = 0; i < h.size(); ++i) {
    const Eigen::Matrix4d power = segment_transition(task, h[i], segment);
    const Eigen::Vector4d next =
        power * Eigen::Vector4d(moments.theta_sq[i], moments.theta_velocity[i], moments.velocity_sq[i], 1.0);
    moments.theta_sq[i] = next[0];
    moments.theta_velocity[i] = next[1];
    moments.velocity_sq[i] = next[2];
  }
}

double expected_loss(const Task& task, const Moments& moments) {
  const std::vector<double> h = curvatures(task);
  double loss = 0;
  for (std::size_t i = 0; i < h.size(); ++i) loss += h[i] * moments.theta_sq[i];
  loss *= 0.5;
  return std::isfinite(loss) ? loss : std::numeric_limits<double>::infinity();
}

double expected_loss_after(const Task& task, const State& from, const std::vector<ScheduleSegment>& schedule) {
  Moments moments = moments_of(from);
  for (const ScheduleSegment& segment : schedule) advance(task, moments, segment);
  return expected_loss(task, moments);
}

double expected_loss_after(const Task& task, const std::vector<ScheduleSegment>& schedule) {
  return expected_loss_after(task, initial_state(task, 0), schedule);
}

double expected_loss_after_steps(const Task& task, std::span<const double> lrs) {
  Moments moments = moments_of(initial_state(task, 0));
  advance(task, moments, lrs);
  return expected_loss(task, moments);
}

std::vector<double> cosine_schedule(double peak_lr, long steps) {
  std::vector<double> lrs;
  lrs.reserve(static_cast<std::size_t>(std::max(steps, 0L)));
  for (long t = 0; t < steps; ++t) {
    lrs.push_back(peak_lr * 0.5 * (1.0 + std::cos(std::numbers::pi * static_cast<double>(t) / steps)));
  }
  return lrs;
}

LrChoice minimize_over_log_lr(const std::function<double(double lr)>& loss_at, double lr_min, double lr_max,
                              int points_per_decade) {
  const double log_min = std::log10(lr_min);
  const double log_max = std::log10(lr_max);
  const int intervals = std::max(1, static_cast<int>(std::ceil((log_max - log_min) * points_per_decade)));
  const double spacing = (log_max - log_min) / intervals;
  LrChoice best{lr_min, std::numeric_limits<double>::infinity()};
  auto evaluate = [&](double log_lr) {
    const double lr = std::pow(10.0, log_lr);
    double loss = loss_at(lr);
    if (std::isnan(loss)) loss = std::numeric_limits<double>::infinity();
    if (loss < best.expected_loss) best = {lr, loss};
    return loss;
  };
  int best_index = 0;
  double best_grid_loss = std::numeric_limits<double>::infinity();
  for (int k = 0; k <= intervals; ++k) {
    const double loss = evaluate(log_min + k * spacing);
    if (loss < best_grid_loss) {
      best_grid_loss = loss;
      best_index = k;
    }
  }
  // Golden-section search (Kiefer 1953) on the bracket around the best grid point.
  const double inverse_phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double low = log_min + std::max(best_index - 1, 0) * spacing;
  double high = log_min + std::min(best_index + 1, intervals) * spacing;
  double inner_low = high - inverse_phi * (high - low);
  double inner_high = low + inverse_phi * (high - low);
  double loss_low = evaluate(inner_low);
  double loss_high = evaluate(inner_high);
  for (int iteration = 0; iteration < 12; ++iteration) {
    if (loss_low <= loss_high) {
      high = inner_high;
      inner_high = inner_low;
      loss_high = loss_low;
      inner_low = high - inverse_phi * (high - low);
      loss_low = evaluate(inner_low);
    } else {
      low = inner_low;
      inner_low = inner_high;
      loss_low = loss_high;
      inner_high = low + inverse_phi * (high - low);
      loss_high = evaluate(inner_high);
    }
  }
  return best;
}

LrChoice best_constant_lr(const Task& task, long steps, double lr_min, double lr_max) {
  return minimize_over_log_lr(
      [&](double lr) { return expected_loss_after(task, {{lr, steps}}); }, lr_min, lr_max);
}

LrChoice best_cosine_peak_lr(const Task& task, long steps, double lr_min, double lr_max) {
  return minimize_over_log_lr(
      [&](double lr) { return expected_loss_after_steps(task, cosine_schedule(lr, steps)); }, lr_min, lr_max);
}

}  // namespace autolrs::simulator
