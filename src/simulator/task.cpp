#include "simulator/task.hpp"

#include <bit>
#include <cmath>

#include "simulator/counter_rng.hpp"
#include "spec/input_error.hpp"

namespace autolrs::simulator {

namespace {

/// The presets. Every one uses per-example gradient covariance c·H: for a log-likelihood loss near
/// its optimum the gradient covariance is the Fisher information, which equals the Hessian (Zhang et
/// al. 2019, §3), so c = 1 is the well-specified case and c > 1 models label noise. β = 0.9 is the
/// usual SGD momentum. L_0 = 2.3 ≈ ln 10, the cross-entropy of a 10-class classifier at initialization.
Task quadratic() {
  return {.name = "quadratic", .dimension = 1000, .h_min = 1e-3, .h_max = 10, .spectrum = Spectrum::power_law,
          .noise_scale = 1, .batch_size = 128, .momentum = 0.9, .initial_loss = 2.3};
}

Task quadratic_ill_conditioned() {
  return {.name = "quadratic-ill-conditioned", .dimension = 1000, .h_min = 1e-5, .h_max = 10,
          .spectrum = Spectrum::log_uniform, .noise_scale = 1, .batch_size = 128, .momentum = 0.9,
          .initial_loss = 2.3};
}

Task quadratic_small_batch() {
  return {.name = "quadratic-small-batch", .dimension = 1000, .h_min = 1e-3, .h_max = 10,
          .spectrum = Spectrum::power_law, .noise_scale = 1, .batch_size = 16, .momentum = 0.9,
          .initial_loss = 2.3};
}

Task quadratic_large_batch() {
  return {.name = "quadratic-large-batch", .dimension = 1000, .h_min = 1e-3, .h_max = 10,
          .spectrum = Spectrum::power_law, .noise_scale = 1, .batch_size = 4096, .momentum = 0.9,
          .initial_loss = 2.3};
}

using PresetFactory = Task (*)();
constexpr PresetFactory presets[] = {quadratic, quadratic_ill_conditioned, quadratic_small_batch,
                                     quadratic_large_batch};

std::uint64_t hash_combine(std::uint64_t hash, std::uint64_t value) { return mix64(hash ^ mix64(value)); }

}  // namespace

std::vector<double> curvatures(const Task& task) {
  std::vector<double> h(static_cast<std::size_t>(task.dimension));
  const double log_ratio = std::log(task.h_min / task.h_max);
  for (int i = 0; i < task.dimension; ++i) {
    if (task.dimension == 1) {
      h[i] = task.h_max;
    } else if (task.spectrum == Spectrum::log_uniform) {
      h[i] = task.h_max * std::exp(log_ratio * i / (task.dimension - 1));
    } else {
      // h_i = h_max·(i+1)^(-p) with p = ln(h_max/h_min)/ln d, so h_1 = h_max and h_d = h_min.
      h[i] = task.h_max * std::exp(log_ratio * std::log(i + 1.0) / std::log(double(task.dimension)));
    }
  }
  return h;
}

std::vector<double> initial_parameters(const Task& task) {
  std::vector<double> theta;
  for (double h : curvatures(task)) theta.push_back(std::sqrt(2.0 * task.initial_loss / (task.dimension * h)));
  return theta;
}

std::uint64_t fingerprint(const Task& task) {
  std::uint64_t hash = 0x6e716d2d7461736bULL;  // "nqm-task"
  hash = hash_combine(hash, static_cast<std::uint64_t>(task.dimension));
  hash = hash_combine(hash, std::bit_cast<std::uint64_t>(task.h_min));
  hash = hash_combine(hash, std::bit_cast<std::uint64_t>(task.h_max));
  hash = hash_combine(hash, static_cast<std::uint64_t>(task.spectrum));
  hash = hash_combine(hash, std::bit_cast<std::uint64_t>(task.noise_scale));
  hash = hash_combine(hash, static_cast<std::uint64_t>(task.batch_size));
  hash = hash_combine(hash, std::bit_cast<std::uint64_t>(task.momentum));
  return hash_combine(hash, std::bit_cast<std::uint64_t>(task.initial_loss));
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (PresetFactory preset : presets) names.push_back(preset().name);
  return names;
}

std::string default_task_name() { return presets[0]().name; }

Task preset_task(std::string_view name) {
  std::string known;
  for (PresetFactory preset : presets) {
    Task task = preset();
    if (task.name == name) return task;
    known += (known.empty() ? "" : ", ") + task.name;
  }
  throw spec::InputError("--task", "unknown task '" + std::string(name) + "' (known: " + known + ")");
}

double stability_limit_lr(const Task& task) { return 2.0 * (1.0 + task.momentum) / task.h_max; }

}  // namespace autolrs::simulator
