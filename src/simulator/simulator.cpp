#include "simulator/simulator.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "simulator/counter_rng.hpp"

namespace autolrs::simulator {

State initial_state(const Task& task, std::uint64_t seed) {
  State state;
  state.seed = seed;
  state.theta = initial_parameters(task);
  state.velocity.assign(state.theta.size(), 0.0);
  return state;
}

Simulator::Simulator(Task task)
    : m_task(std::move(task)), m_curvatures(curvatures(m_task)), m_normals(m_curvatures.size()) {
  m_target_std.reserve(m_curvatures.size());
  for (double h : m_curvatures) {
    m_target_std.push_back(std::sqrt(m_task.noise_scale / (h * m_task.batch_size)));
  }
}

double Simulator::step(State& state, double lr) {
  if (state.theta.size() != m_curvatures.size() || state.velocity.size() != m_curvatures.size()) {
    throw std::invalid_argument("simulator state does not have the task's dimension");
  }
  ++state.global_step;
  fill_standard_normals(state.seed, state.global_step, m_normals);
  const double beta = m_task.momentum;
  double loss = 0;
  for (std::size_t i = 0; i < m_curvatures.size(); ++i) {
    const double residual = state.theta[i] - m_target_std[i] * m_normals[i];
    const double gradient = m_curvatures[i] * residual;
    loss += gradient * residual;
    state.velocity[i] = beta * state.velocity[i] + gradient;
    state.theta[i] -= lr * state.velocity[i];
  }
  return 0.5 * loss;
}

double Simulator::noise_free_loss(const State& state) const {
  double loss = 0;
  for (std::size_t i = 0; i < m_curvatures.size(); ++i) {
    loss += m_curvatures[i] * state.theta[i] * state.theta[i];
  }
  return 0.5 * loss;
}

ValidationSet::ValidationSet(const Task& task, std::uint64_t seed, std::int64_t examples)
    : m_curvatures(curvatures(task)) {
  if (examples < 0) throw std::invalid_argument("a validation set needs >= 0 examples");
  if (examples == 0) return;
  // Training draws use steps >= 1 of the seed's stream; the set has a stream of its own.
  constexpr std::uint64_t validation_stream = 0x76616c69642d7365ULL;  // "valid-se"
  m_mean_target.resize(m_curvatures.size());
  fill_standard_normals(mix64(seed ^ validation_stream), 0, m_mean_target);
  for (std::size_t i = 0; i < m_curvatures.size(); ++i) {
    m_mean_target[i] *= std::sqrt(task.noise_scale / (m_curvatures[i] * static_cast<double>(examples)));
  }
}

double ValidationSet::loss(const State& state) const {
  double loss = 0;
  for (std::size_t i = 0; i < m_curvatures.size(); ++i) {
    const double target = m_mean_target.empty() ? 0.0 : m_mean_target[i];
    loss += m_curvatures[i] * state.theta[i] * (state.theta[i] - 2 * target);
  }
  return 0.5 * loss;
}

}  // namespace autolrs::simulator
