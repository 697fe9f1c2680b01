#include "simulator/schedule_oracle.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace autolrs::simulator {

namespace {

double finite_or_infinity(double loss) { return std::isfinite(loss) ? loss : std::numeric_limits<double>::infinity(); }

}  // namespace

OracleSchedule optimize_schedule(const Task& task, long steps, int segment_count, double lr_min, double lr_max) {
  if (steps < 1 || segment_count < 1 || segment_count > steps) {
    throw std::invalid_argument("optimize_schedule: need 1 <= segment_count <= steps");
  }
  if (!(lr_min > 0 && lr_min < lr_max && std::isfinite(lr_max))) {
    throw std::invalid_argument("optimize_schedule: need 0 < lr_min < lr_max");
  }
  const std::vector<double> h = curvatures(task);
  const std::size_t d = h.size();
  const std::size_t count = static_cast<std::size_t>(segment_count);
  const double lr_cap = std::min(lr_max, stability_limit_lr(task));
  if (lr_min >= lr_cap) throw std::invalid_argument("optimize_schedule: lr_min is above the stability limit");
  const LrChoice constant = best_constant_lr(task, steps, lr_min, lr_cap);
  OracleSchedule oracle;
  for (long k = 0; k < segment_count; ++k) {
    const long start = k * steps / segment_count;
    oracle.segments.push_back({constant.lr, (k + 1) * steps / segment_count - start});
  }
  oracle.expected_loss = constant.expected_loss;

  const Moments initial = moments_of(initial_state(task, 0));
  constexpr int max_sweeps = 30;
  std::vector<Eigen::Vector4d> before(d);         // moments before the segment being tuned, per dimension
  std::vector<Eigen::Vector4d> after(count * d);  // (maps of the later segments)ᵀ·e_θθ, per segment and dimension
  for (int sweep = 0; sweep < max_sweeps; ++sweep) {
    const double loss_before_sweep = oracle.expected_loss;
    for (std::size_t i = 0; i < d; ++i) {
      Eigen::Vector4d readout(1, 0, 0, 0);
      for (std::size_t k = count; k-- > 0;) {
        after[k * d + i] = readout;
        readout = segment_transition(task, h[i], oracle.segments[k]).transpose() * readout;
      }
      before[i] = Eigen::Vector4d(initial.theta_sq[i], initial.theta_velocity[i], initial.velocity_sq[i], 1.0);
    }
    for (std::size_t k = 0; k < count; ++k) {
      const long segment_steps = oracle.segments[k].steps;
      const auto loss_at = [&](double lr) {
        double loss = 0;
        for (std::size_t i = 0; i < d; ++i) {
          loss += h[i] * after[k * d + i].dot(segment_transition(task, h[i], {lr, segment_steps}) * before[i]);
        }
        return finite_or_infinity(0.5 * loss);
      };
      const LrChoice choice = minimize_over_log_lr(loss_at, lr_min, lr_cap, 4);
      if (choice.expected_loss < oracle.expected_loss) {
        oracle.segments[k].lr = choice.lr;
        oracle.expected_loss = choice.expected_loss;
      }
      for (std::size_t i = 0; i < d; ++i) before[i] = segment_transition(task, h[i], oracle.segments[k]) * before[i];
    }
    oracle.sweeps = sweep + 1;
    if (loss_before_sweep - oracle.expected_loss <= 1e-6 * loss_before_sweep) break;
  }
  // Reported as the plain forward evaluation, so it is exactly expected_loss_after(task, segments).
  oracle.expected_loss = expected_loss_after(task, oracle.segments);
  return oracle;
}

}  // namespace autolrs::simulator
