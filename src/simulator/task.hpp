#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace autolrs::simulator {

/// How the curvatures h_1 >= ... >= h_d spread over [h_min, h_max].
enum class Spectrum {
  log_uniform,  ///< h_i equally spaced in log h: every decade holds the same number of dimensions
  power_law     ///< h_i = h_max · i^(-p), p chosen so h_d = h_min: most dimensions sit at low curvature
};

/// A noisy quadratic model (Zhang et al., NeurIPS 2019, "Which algorithmic choices matter at which
/// batch sizes?"): loss L(θ) = ½ Σ h_i θ_i², per-example gradient noise of variance c·h_i along
/// dimension i (gradient covariance proportional to the Hessian), minibatches of B examples, SGD with
/// heavy-ball momentum β. A plain value; presets come from `preset_task`.
struct Task {
  std::string name;
  int dimension = 1;        ///< d >= 1
  double h_min = 1;         ///< smallest curvature, 0 < h_min <= h_max
  double h_max = 1;         ///< largest curvature; SGD diverges for lr >= 2(1+β)/h_max
  Spectrum spectrum = Spectrum::log_uniform;
  double noise_scale = 1;   ///< c >= 0: per-example gradient variance along dimension i is c·h_i
  int batch_size = 1;       ///< B >= 1: the minibatch gradient noise variance is c·h_i/B
  double momentum = 0;      ///< β in [0, 1)
  double initial_loss = 1;  ///< L(θ_0) > 0, split equally over the dimensions
};

/// The curvatures h_1 >= ... >= h_d of `task` (d values).
std::vector<double> curvatures(const Task& task);

/// The deterministic start θ_0: θ_i = sqrt(2·L_0 / (d·h_i)), so each dimension holds L_0/d of the
/// initial loss (the loss is spread over the whole spectrum, as at a random initialization).
std::vector<double> initial_parameters(const Task& task);

/// A 64-bit hash of every field but `name`, stored in checkpoints so that a checkpoint is never
/// resumed under a task whose dynamics differ.
std::uint64_t fingerprint(const Task& task);

/// The names of the presets, the primary one (`default_task_name`) first.
std::vector<std::string> preset_names();

/// The primary preset, the one configs/dry-run.json trains.
std::string default_task_name();

/// The preset called `name`; throws spec::InputError("--task", ...) listing the presets when unknown.
Task preset_task(std::string_view name);

/// The largest stable constant learning rate, 2(1+β)/h_max: at or above it the iterates grow without
/// bound even without noise (heavy-ball stability condition for the quadratic's stiffest direction).
double stability_limit_lr(const Task& task);

}  // namespace autolrs::simulator
