#pragma once

#include <cstdint>
#include <vector>

#include "simulator/task.hpp"

namespace autolrs::simulator {

/// The complete state of a simulated training run: with the task, it determines every later line.
struct State {
  std::uint64_t seed = 0;        ///< selects the minibatch noise; see fill_standard_normals
  std::int64_t global_step = 0;  ///< steps taken since the task's initial state
  std::vector<double> theta;     ///< parameters θ (d values)
  std::vector<double> velocity;  ///< heavy-ball buffer v (d values)
};

/// The task's initial state: θ_0 from initial_parameters, v = 0, global step 0.
State initial_state(const Task& task, std::uint64_t seed);

/// Samples the noisy quadratic model. Step t (global step t, counted from 1) draws a minibatch
/// target z_i ~ N(0, c/(h_i·B)) from (seed, t) and, with PyTorch's heavy-ball convention,
///   loss_t = ½ Σ h_i (θ_i − z_i)²,   g_i = h_i (θ_i − z_i),   v_i ← β v_i + g_i,   θ_i ← θ_i − lr·v_i,
/// so the gradient noise −h_i z_i has variance c·h_i/B and E[loss_t] = L(θ) + d·c/(2B).
class Simulator {
 public:
  explicit Simulator(Task task);

  const Task& task() const { return m_task; }

  /// Takes global step state.global_step + 1 at learning rate `lr` and returns that step's minibatch
  /// loss, evaluated at the parameters before the update (as a trainer logs it). Diverged parameters
  /// give inf or NaN losses; the step still completes. `state` must have the task's dimension.
  double step(State& state, double lr);

  /// The noise-free loss L(θ) = ½ Σ h_i θ_i² (inf or NaN once diverged).
  double noise_free_loss(const State& state) const;

 private:
  Task m_task;
  std::vector<double> m_curvatures;
  std::vector<double> m_target_std;  ///< sqrt(c/(h_i·B)), the standard deviation of z_i
  std::vector<double> m_normals;     ///< scratch for one step's draws
};

/// A finite validation set of `examples` examples, fixed by the run's seed: per-example targets
/// z_i ~ N(0, c/h_i) averaged over the set give the set's mean target ζ_i ~ N(0, c/(h_i·examples)),
/// drawn once from (seed, a stream of its own), so every evaluation in a run sees the same set.
/// Its loss is ½ Σ h_i (θ_i − ζ_i)² − ½ Σ h_i ζ_i² = L(θ) − Σ h_i θ_i ζ_i: an unbiased estimate of the
/// population loss L(θ) whose error, of standard deviation sqrt(2·c·L(θ)/examples), is the same for
/// the same θ and correlated between nearby ones, as a real validation set's is. (The set's own
/// irreducible term ½ Σ h_i ζ_i² is left out, as L(θ) leaves out the noise floor.)
class ValidationSet {
 public:
  /// `examples` = 0: the population loss L(θ) itself, without sampling error.
  ValidationSet(const Task& task, std::uint64_t seed, std::int64_t examples);

  /// The set's loss at `state` (inf or NaN once diverged).
  double loss(const State& state) const;

 private:
  std::vector<double> m_curvatures;
  std::vector<double> m_mean_target;  ///< ζ_i; empty for examples = 0
};

}  // namespace autolrs::simulator
