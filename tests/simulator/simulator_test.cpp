#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "simulator/simulator.hpp"
#include "simulator/task.hpp"

using namespace autolrs::simulator;

namespace {

/// One dimension, h = 2, β = 0.5, θ_0 = 1 (L_0 = 1).
Task one_dimension(double noise_scale) {
  return {.name = "one", .dimension = 1, .h_min = 2, .h_max = 2, .spectrum = Spectrum::log_uniform,
          .noise_scale = noise_scale, .batch_size = 4, .momentum = 0.5, .initial_loss = 1};
}

Task few_dimensions() {
  return {.name = "few", .dimension = 6, .h_min = 0.1, .h_max = 1, .spectrum = Spectrum::log_uniform,
          .noise_scale = 1, .batch_size = 4, .momentum = 0.9, .initial_loss = 1};
}

}  // namespace

TEST_CASE("simulator::Simulator without noise runs heavy-ball momentum exactly") {
  Simulator simulator(one_dimension(0));
  State state = initial_state(simulator.task(), 0);
  REQUIRE(state.theta == std::vector<double>{1.0});
  // Step 1: g = 2, v = 2, θ = 1 − 0.1·2 = 0.8; loss at θ_0 = ½·2·1 = 1.
  CHECK(simulator.step(state, 0.1) == doctest::Approx(1.0));
  CHECK(state.global_step == 1);
  CHECK(state.theta[0] == doctest::Approx(0.8));
  CHECK(state.velocity[0] == doctest::Approx(2.0));
  // Step 2: g = 1.6, v = 0.5·2 + 1.6 = 2.6, θ = 0.8 − 0.26 = 0.54; loss at θ_1 = 0.64.
  CHECK(simulator.step(state, 0.1) == doctest::Approx(0.64));
  CHECK(state.theta[0] == doctest::Approx(0.54));
  CHECK(simulator.noise_free_loss(state) == doctest::Approx(0.54 * 0.54));
}

TEST_CASE("simulator::Simulator replays the same minibatches from the same state") {
  Simulator simulator(few_dimensions());
  State state = initial_state(simulator.task(), 11);
  for (int i = 0; i < 5; ++i) simulator.step(state, 0.05);
  State copy = state;
  const double first = simulator.step(state, 0.05);
  const double replayed = simulator.step(copy, 0.05);
  CHECK(first == replayed);
  CHECK(state.theta == copy.theta);

  SUBCASE("the loss of a step is taken before the update, so any LR sees the same first loss") {
    State other = state;
    State same = state;
    CHECK(simulator.step(other, 0.5) == simulator.step(same, 0.001));
    CHECK(other.theta != same.theta);
  }
  SUBCASE("another seed draws other minibatches") {
    State reseeded = initial_state(simulator.task(), 12);
    State original = initial_state(simulator.task(), 11);
    CHECK(simulator.step(reseeded, 0.05) != simulator.step(original, 0.05));
  }
}

TEST_CASE("simulator::Simulator diverges to inf/nan at or above the stability limit") {
  Simulator simulator(one_dimension(0));
  // 2(1+β)/h = 1.5: at lr = 1.6 the iterates grow geometrically; at 1.4 they shrink.
  State unstable = initial_state(simulator.task(), 0);
  State stable = initial_state(simulator.task(), 0);
  for (int i = 0; i < 5000; ++i) {
    simulator.step(unstable, 1.6);
    simulator.step(stable, 1.4);
  }
  CHECK_FALSE(std::isfinite(simulator.noise_free_loss(unstable)));
  CHECK_FALSE(std::isfinite(simulator.step(unstable, 1.6)));
  CHECK(simulator.noise_free_loss(stable) < 1e-20);
}

TEST_CASE("simulator::Simulator rejects a state of the wrong dimension") {
  Simulator simulator(few_dimensions());
  State state = initial_state(one_dimension(0), 0);
  CHECK_THROWS_AS(simulator.step(state, 0.1), std::invalid_argument);
}

TEST_CASE("simulator::ValidationSet is the population loss plus a fixed sampling error of the closed-form size") {
  const Task task = few_dimensions();
  Simulator simulator(task);
  State state = initial_state(task, 3);
  for (int step = 0; step < 20; ++step) simulator.step(state, 0.05);
  const double population = simulator.noise_free_loss(state);
  CHECK(ValidationSet(task, 3, 0).loss(state) == population);

  // Over many seeds (many sets) the error averages out, and its spread is sqrt(2·c·L(θ)/n):
  // L − Σ h_i θ_i ζ_i with ζ_i ~ N(0, c/(h_i·n)) has variance Σ h_i² θ_i² c/(h_i·n) = 2·c·L/n.
  const std::int64_t examples = 1000;
  double sum = 0, sum_sq = 0;
  const int sets = 4000;
  for (int seed = 0; seed < sets; ++seed) {
    const double error = ValidationSet(task, static_cast<std::uint64_t>(seed), examples).loss(state) - population;
    sum += error;
    sum_sq += error * error;
  }
  const double expected_sd = std::sqrt(2 * task.noise_scale * population / examples);
  CHECK(std::abs(sum / sets) < 4 * expected_sd / std::sqrt(double(sets)));
  CHECK(std::sqrt(sum_sq / sets) == doctest::Approx(expected_sd).epsilon(0.05));

  // One set gives one answer per state, and its errors at nearby states are nearly the same.
  const ValidationSet set(task, 11, examples);
  CHECK(set.loss(state) == set.loss(state));
  State nearby = state;
  simulator.step(nearby, 0.001);
  const double shift = (set.loss(nearby) - simulator.noise_free_loss(nearby)) - (set.loss(state) - population);
  CHECK(std::abs(shift) < 0.1 * expected_sd);
  CHECK_THROWS_AS(ValidationSet(task, 0, -1), std::invalid_argument);
}
