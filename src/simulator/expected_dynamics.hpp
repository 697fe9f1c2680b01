#pragma once

#include <functional>
#include <span>
#include <vector>

#include <Eigen/Core>

#include "simulator/simulator.hpp"
#include "simulator/task.hpp"

namespace autolrs::simulator {

/// `steps` steps at learning rate `lr`; a schedule is a list of these, run in order.
struct ScheduleSegment {
  double lr = 0;
  long steps = 0;
};

/// The raw second moments E[θ_i²], E[θ_i v_i], E[v_i²] of every dimension, over the minibatch noise.
/// For the noisy quadratic model they are all that the expected loss needs: E[L] = ½ Σ h_i E[θ_i²].
struct Moments {
  std::vector<double> theta_sq;
  std::vector<double> theta_velocity;
  std::vector<double> velocity_sq;
};

/// The moments of a known state (no uncertainty yet): θ_i², θ_i v_i, v_i².
Moments moments_of(const State& state);

/// Advances `moments` by one step at learning rate `lr` for each entry of `lrs`. Per dimension the
/// step is x' = A x + b ξ with x = (θ, v), A = [[1 − lr·h, −lr·β], [h, β]], b = (−lr, 1) and
/// Var ξ = σ² = c·h/B, so the exact recursion (Zhang et al. 2019, §3) is S' = A S Aᵀ + σ² b bᵀ.
void advance(const Task& task, Moments& moments, std::span<const double> lrs);

/// Advances `moments` by a constant-LR segment in O(d·log steps): the recursion above is affine in
/// (E[θ²], E[θv], E[v²]), so a segment is a power of its 4×4 augmented matrix.
void advance(const Task& task, Moments& moments, const ScheduleSegment& segment);

/// The affine map of one dimension's moments over a constant-LR segment, for curvature h: the 4×4
/// matrix taking (E[θ²], E[θv], E[v²], 1) before the segment to the same after it (the one-step
/// recursion's augmented matrix to the power segment.steps; the identity for steps ≤ 0).
Eigen::Matrix4d segment_transition(const Task& task, double h, const ScheduleSegment& segment);

/// E[L(θ)] = ½ Σ h_i E[θ_i²]; +inf when the moments overflowed (the schedule diverges).
double expected_loss(const Task& task, const Moments& moments);

/// Expected noise-free loss after running `schedule` from the task's initial state, or from `from`.
double expected_loss_after(const Task& task, const std::vector<ScheduleSegment>& schedule);
double expected_loss_after(const Task& task, const State& from, const std::vector<ScheduleSegment>& schedule);

/// Expected noise-free loss after one step per entry of `lrs` from the task's initial state.
double expected_loss_after_steps(const Task& task, std::span<const double> lrs);

/// Cosine decay to zero without warmup (Loshchilov and Hutter, ICLR 2017):
/// lr_t = peak·½(1 + cos(π t/steps)) for the step t = 0 … steps−1 of the run.
std::vector<double> cosine_schedule(double peak_lr, long steps);

/// A learning rate and the expected loss it reaches.
struct LrChoice {
  double lr = 0;
  double expected_loss = 0;
};

/// Minimizes `loss_at(lr)` over [lr_min, lr_max] (0 < lr_min < lr_max): a grid with
/// `points_per_decade` points per decade in log lr, then golden-section search in log lr between the
/// best grid point's neighbours. NaN counts as +inf. The result is the best point evaluated.
LrChoice minimize_over_log_lr(const std::function<double(double lr)>& loss_at, double lr_min, double lr_max,
                              int points_per_decade = 8);

/// The constant LR in [lr_min, lr_max] with the lowest expected loss after `steps` steps.
LrChoice best_constant_lr(const Task& task, long steps, double lr_min, double lr_max);

/// The cosine peak LR in [lr_min, lr_max] with the lowest expected loss after `steps` steps.
LrChoice best_cosine_peak_lr(const Task& task, long steps, double lr_min, double lr_max);

}  // namespace autolrs::simulator
